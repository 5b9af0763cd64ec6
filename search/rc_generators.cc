#include "search/rc_generators.h"

#include <cstdint>
#include <utility>
#include <vector>

#include "faults/fault_kinds.h"

namespace faultline::search::gen {
namespace {

// [min, max] inclusive (rc::gen::inRange excludes its max).
template <typename T>
rc::Gen<T> Between(T min, T max) {
  return rc::gen::inRange<T>(min, static_cast<T>(max + 1));
}

// Mostly `usual`, sometimes `rare` (shrinks towards `usual`).
rc::Gen<bool> Rarely(bool usual, size_t one_in) {
  return rc::gen::weightedElement<bool>({{one_in - 1, usual}, {1, !usual}});
}

// 0 (unset) in `zero_weight` of `zero_weight + 1` cases, else in [min, max].
rc::Gen<uint32_t> ZeroOr(uint32_t zero_weight, uint32_t min, uint32_t max) {
  return rc::gen::weightedOneOf<uint32_t>(
      {{zero_weight, rc::gen::just<uint32_t>(0)}, {1, Between<uint32_t>(min, max)}});
}

// A partitioner: mostly the default, sometimes rebalance, rarely broadcast.
rc::Gen<uint32_t> Input() {
  return rc::gen::weightedElement<uint32_t>({{6, 0}, {3, 1}, {1, 2}});
}

constexpr uint32_t kKindCount = static_cast<uint32_t>(faults::kFaultOnlyKindCount);

constexpr uint32_t KindIndex(faults::FaultKind kind) {
  return static_cast<uint32_t>(kind);
}

// A story: two faults tied to one engine event, the way attempts get cut off in production. The
// output store turns slow for a moment (a few ms around the event: the calls issued then take
// seconds to apply) and, a few ms later, the attempt is cut off (its TaskManager crashes or is
// isolated by a partition, a task fails, the JobManager crashes). The slow calls are still on
// their way when the next attempt starts: the commits (at a checkpoint's notification) or
// pre-commits (at a snapshot) of an attempt that no longer exists land after its successor began
// writing as the same writer, as a Kafka producer's requests outlive a GC-paused or partitioned
// instance. Any store, any job: the generator never reads which teaching switch is on.
constexpr uint32_t kStoryOneIn = 4;  // of the plans with room for two entries or more

struct Story {
  uint32_t event = 4;       // index into the trigger events (generated_faults.cc)
  uint32_t occurrence = 1;  // 1..3
  uint32_t delay_ms = 0;    // after the event, for both faults
  uint32_t gap_ms = 0;      // from the slowdown to the cut
  uint32_t slow_ms = 500;   // the extra latency of a call issued in the window
  uint32_t window_ms = 1;   // how long the output store is slow
  uint32_t cut = 0;         // 0 TaskManager crash, 1 task failure, 2 partition, 3 JobManager crash
  uint32_t node = 0;        // the TaskManager (crash, partition)
  uint32_t restart_after_ms = 100;
  uint32_t heal_after_ms = 1000;  // the partition
  uint32_t target = 0;            // the failed task: operator ...
  uint32_t subtask = 0;           // ... and subtask
};

rc::Gen<Story> StoryGen() {
  return rc::gen::build<Story>(
      // notification-sent and checkpoint-completed (commits in flight), snapshot-captured and
      // ack-sent (pre-commits in flight).
      rc::gen::set(&Story::event,
                   rc::gen::weightedElement<uint32_t>({{3, 4}, {2, 1}, {1, 5}, {1, 6}})),
      rc::gen::set(&Story::occurrence, Between<uint32_t>(1, 3)),
      rc::gen::set(&Story::delay_ms, ZeroOr(2, 1, 300)),
      rc::gen::set(&Story::gap_ms, Between<uint32_t>(0, 30)),
      rc::gen::set(&Story::slow_ms, Between<uint32_t>(500, 5000)),
      rc::gen::set(&Story::window_ms, Between<uint32_t>(1, 40)),
      rc::gen::set(&Story::cut,
                   rc::gen::weightedElement<uint32_t>({{3, 0}, {2, 1}, {2, 2}, {1, 3}})),
      rc::gen::set(&Story::node, Between<uint32_t>(0, 4)),
      rc::gen::set(&Story::restart_after_ms, Between<uint32_t>(50, 2000)),
      rc::gen::set(&Story::heal_after_ms, Between<uint32_t>(500, 10000)),
      rc::gen::set(&Story::target, Between<uint32_t>(0, 5)),
      rc::gen::set(&Story::subtask, Between<uint32_t>(0, 7)));
}

GenTrigger StoryTrigger(const Story& s, uint32_t delay_ms) {
  GenTrigger t;
  t.on_event = true;
  t.event = s.event;
  t.occurrence = s.occurrence;
  t.delay_ms = delay_ms;
  return t;
}

GenFault SlowOutput(const Story& s) {
  GenFault f;
  f.kind = KindIndex(faults::FaultKind::kOutputSlow);
  f.trigger = StoryTrigger(s, s.delay_ms);
  f.extra_latency_ms = s.slow_ms;
  f.duration_ms = s.window_ms;
  return f;
}

GenFault CutOff(const Story& s) {
  GenFault f;
  f.trigger = StoryTrigger(s, s.delay_ms + s.gap_ms);
  f.node = s.node;  // a TaskManager: resolved as 1 + node mod their count
  f.restart_after_ms = s.restart_after_ms;
  switch (s.cut % 4) {
    case 0:
      f.kind = KindIndex(faults::FaultKind::kCrashTaskManager);
      break;
    case 1:
      f.kind = KindIndex(faults::FaultKind::kFailTask);
      f.target = s.target;
      f.subtask = s.subtask;
      break;
    case 2:
      // One node on side a: TaskManager node + 1 (the JobManager when the cluster is smaller).
      f.kind = KindIndex(faults::FaultKind::kPartition);
      f.side_mask = 1u << (1 + s.node % 5);
      f.heals = true;
      f.duration_ms = s.heal_after_ms;
      break;
    default:
      f.kind = KindIndex(faults::FaultKind::kCrashJobManager);
      break;
  }
  return f;
}

}  // namespace

rc::Gen<GenOperator> Operator() {
  return rc::gen::build<GenOperator>(
      rc::gen::set(&GenOperator::kind,
                   rc::gen::element(GenOperator::Kind::kMap, GenOperator::Kind::kAggregate,
                                    GenOperator::Kind::kFilter, GenOperator::Kind::kFlatMap)),
      rc::gen::set(&GenOperator::function, Between<uint32_t>(0, 4)),
      rc::gen::set(&GenOperator::arg, Between<int64_t>(1, 9)),
      rc::gen::set(&GenOperator::parallelism, Between<uint32_t>(1, 8)),
      rc::gen::set(&GenOperator::input, Input()),
      rc::gen::set(&GenOperator::key_by_value, Rarely(false, 4)),
      rc::gen::set(&GenOperator::record_cost_us, ZeroOr(1, 1, 300)));
}

rc::Gen<GenJob> Job() {
  return rc::gen::build<GenJob>(
      rc::gen::set(&GenJob::source_parallelism, Between<uint32_t>(1, 8)),
      rc::gen::set(&GenJob::operators, BoundedList<GenOperator>(0, 4, Operator())),
      rc::gen::set(&GenJob::sink_parallelism, Between<uint32_t>(1, 8)),
      rc::gen::set(&GenJob::sink_input, Input()),
      rc::gen::set(&GenJob::sink_kind,
                   rc::gen::weightedElement<uint32_t>({{3, 0}, {1, 1}, {1, 2}})),
      rc::gen::set(&GenJob::key_by_sink, Rarely(false, 4)));
}

rc::Gen<GenWorkload> Workload() {
  return rc::gen::build<GenWorkload>(
      rc::gen::set(&GenWorkload::partitions, Between<uint32_t>(1, 8)),
      rc::gen::set(&GenWorkload::records_per_partition, Between<uint32_t>(50, 600)),
      rc::gen::set(&GenWorkload::keys, Between<uint32_t>(1, 1000)),
      rc::gen::set(&GenWorkload::key_pattern, Between<uint32_t>(0, 2)),
      rc::gen::set(&GenWorkload::value_pattern, Between<uint32_t>(0, 3)),
      rc::gen::set(&GenWorkload::value, Between<int64_t>(1, 100)),
      rc::gen::set(&GenWorkload::modulus, Between<uint32_t>(1, 50)),
      rc::gen::set(&GenWorkload::min, Between<int64_t>(-100, 100)),
      rc::gen::set(&GenWorkload::span, Between<int64_t>(0, 1000)),
      rc::gen::set(&GenWorkload::data_seed, Between<uint64_t>(1, 1000)),
      rc::gen::set(&GenWorkload::max_records_per_read, Between<uint32_t>(1, 128)),
      rc::gen::set(&GenWorkload::source_ms, Between<uint32_t>(3000, 12000)));
}

rc::Gen<GenWorld> World() {
  return rc::gen::build<GenWorld>(
      rc::gen::set(&GenWorld::task_managers, Between<uint32_t>(1, 5)),
      rc::gen::set(&GenWorld::heartbeat_interval_ms, Between<uint32_t>(100, 1000)),
      rc::gen::set(&GenWorld::heartbeat_timeout_factor, Between<uint32_t>(2, 8)),
      rc::gen::set(&GenWorld::connect_retry_ms, Between<uint32_t>(5, 100)),
      rc::gen::set(&GenWorld::latency_us, Between<uint32_t>(10, 2000)),
      rc::gen::set(&GenWorld::jitter_us, Between<uint32_t>(0, 1000)),
      rc::gen::set(&GenWorld::bandwidth,
                   rc::gen::element<int64_t>(0, 1250000000, 100000000, 10000000)),
      rc::gen::set(&GenWorld::channel_credits, Between<uint32_t>(1, 8)),
      rc::gen::set(&GenWorld::buffer_bytes,
                   rc::gen::element<uint32_t>(32768, 4096, 1024, 256, 65536)),
      rc::gen::set(&GenWorld::buffer_timeout_ms, Between<uint32_t>(0, 200)),
      rc::gen::set(&GenWorld::output_queue, Between<uint32_t>(1, 4)),
      rc::gen::set(&GenWorld::blob_latency_us, Between<uint32_t>(0, 10000)),
      rc::gen::set(&GenWorld::blob_jitter_us, Between<uint32_t>(0, 10000)),
      rc::gen::set(&GenWorld::output_latency_us, Between<uint32_t>(0, 2000)),
      rc::gen::set(&GenWorld::restart, Between<uint32_t>(0, 2)),
      rc::gen::set(&GenWorld::restart_delay_ms, Between<uint32_t>(0, 1000)));
}

rc::Gen<GenCheckpointing> Checkpointing() {
  return rc::gen::build<GenCheckpointing>(
      rc::gen::set(&GenCheckpointing::mode, Between<uint32_t>(0, 2)),
      rc::gen::set(&GenCheckpointing::interval_permille, Between<uint32_t>(20, 200)),
      rc::gen::set(&GenCheckpointing::timeout_ms,
                   rc::gen::element<uint32_t>(10000, 30000, 5000, 2000)),
      rc::gen::set(&GenCheckpointing::min_pause_permille, ZeroOr(2, 1, 1000)),
      rc::gen::set(&GenCheckpointing::max_concurrent, Between<uint32_t>(1, 4)),
      rc::gen::set(&GenCheckpointing::tolerable_failures,
                   rc::gen::element<uint32_t>(0, 1, 3, 1000)),
      rc::gen::set(&GenCheckpointing::retained, Between<uint32_t>(1, 4)),
      rc::gen::set(&GenCheckpointing::aligned_timeout_ms, ZeroOr(2, 1, 500)),
      rc::gen::set(&GenCheckpointing::fallback, rc::gen::arbitrary<bool>()),
      rc::gen::set(&GenCheckpointing::flink_unaligned_flag, Rarely(false, 4)),
      // Drawn last, so the fields above keep their values for a seed.
      rc::gen::set(&GenCheckpointing::backend,
                   rc::gen::weightedElement<uint32_t>({{6, 0}, {2, 1}, {2, 2}})),
      rc::gen::set(&GenCheckpointing::compaction_trigger, Between<uint32_t>(1, 4)));
}

rc::Gen<GenTrigger> Trigger() {
  return rc::gen::build<GenTrigger>(
      rc::gen::set(&GenTrigger::on_event, Rarely(false, 3)),
      rc::gen::set(&GenTrigger::at_permille, Between<uint32_t>(0, 799)),
      rc::gen::set(&GenTrigger::event, Between<uint32_t>(0, 15)),
      rc::gen::set(&GenTrigger::checkpoint, Between<uint32_t>(1, 3)),
      rc::gen::set(&GenTrigger::occurrence, Between<uint32_t>(1, 3)),
      rc::gen::set(&GenTrigger::delay_ms, ZeroOr(1, 1, 500)),
      rc::gen::set(&GenTrigger::target, Between<uint32_t>(0, 5)),
      rc::gen::set(&GenTrigger::subtask, Between<uint32_t>(0, 7)),
      rc::gen::set(&GenTrigger::named_subtask, rc::gen::arbitrary<bool>()));
}

rc::Gen<GenFault> Fault() {
  return rc::gen::build<GenFault>(
      rc::gen::set(&GenFault::kind, rc::gen::inRange<uint32_t>(0, kKindCount)),
      rc::gen::set(&GenFault::trigger, Trigger()),
      rc::gen::set(&GenFault::node, Between<uint32_t>(0, 5)),
      rc::gen::set(&GenFault::node_b, Between<uint32_t>(0, 5)),
      rc::gen::set(&GenFault::every_link, rc::gen::arbitrary<bool>()),
      rc::gen::set(&GenFault::duration_ms, Between<uint32_t>(50, 3000)),
      rc::gen::set(&GenFault::restart_after_ms, Between<uint32_t>(50, 3000)),
      rc::gen::set(&GenFault::never_restart, Rarely(false, 8)),
      rc::gen::set(&GenFault::lose_disk, Rarely(false, 4)),
      rc::gen::set(&GenFault::extra_latency_ms, Between<uint32_t>(1, 500)),
      rc::gen::set(&GenFault::bandwidth, rc::gen::element<int64_t>(1000000, 100000, 10000000)),
      rc::gen::set(&GenFault::side_mask, Between<uint32_t>(0, 63)),
      rc::gen::set(&GenFault::heals, Rarely(true, 8)),
      rc::gen::set(&GenFault::scope_count, Between<uint32_t>(1, 5)),
      rc::gen::set(&GenFault::scope_duration_ms, ZeroOr(2, 50, 2000)),
      rc::gen::set(&GenFault::scope_prefix, Between<uint32_t>(0, 1)),
      rc::gen::set(&GenFault::offset_ms, Between<int32_t>(-2000, 2000)),
      rc::gen::set(&GenFault::drift_ppm, Between<int32_t>(-100000, 100000)),
      rc::gen::set(&GenFault::rate_percent, Between<uint32_t>(1, 100)),
      rc::gen::set(&GenFault::bytes_from_end, ZeroOr(1, 1, 64)),
      rc::gen::set(&GenFault::target, Between<uint32_t>(0, 5)),
      rc::gen::set(&GenFault::subtask, Between<uint32_t>(0, 7)));
}

rc::Gen<std::vector<GenFault>> FaultPlan(uint32_t max_faults) {
  if (max_faults == 0) return rc::gen::just(std::vector<GenFault>{});
  const rc::Gen<std::vector<GenFault>> plain = BoundedList<GenFault>(1, max_faults, Fault());
  if (max_faults < 2) return plain;
  return rc::Gen<std::vector<GenFault>>([=](const rc::Random& random, int size) {
    // The story is drawn on a branch of the generator the plain plan never uses (BoundedList
    // splits at most 1 + max_faults times), so a plan without a story is the plain plan as it
    // was before stories existed, seed for seed.
    rc::Random r = random;
    for (uint32_t i = 0; i <= max_faults; ++i) r.split();
    if (r.split().next() % kStoryOneIn != 0) return plain(random, size);
    const rc::Shrinkable<Story> story = StoryGen()(r.split(), size);
    std::vector<rc::Shrinkable<GenFault>> entries;
    entries.push_back(rc::shrinkable::map(story, SlowOutput));
    entries.push_back(rc::shrinkable::map(story, CutOff));
    const uint64_t more = r.split().next() % (max_faults - 1);  // 0 .. max_faults - 2
    for (uint64_t i = 0; i < more; ++i) entries.push_back(Fault()(r.split(), size));
    return ShrinkingList(std::move(entries), 1);
  });
}

rc::Gen<GenRescale> Rescale() {
  return rc::gen::build<GenRescale>(rc::gen::set(&GenRescale::enabled, Rarely(false, 5)),
                                    rc::gen::set(&GenRescale::extra, Between<uint32_t>(0, 4)),
                                    rc::gen::set(&GenRescale::trigger, Trigger()));
}

rc::Gen<GenSavepoint> SavepointGen() {
  return rc::gen::build<GenSavepoint>(
      rc::gen::set(&GenSavepoint::enabled, Rarely(false, 5)),
      rc::gen::set(&GenSavepoint::stop, rc::gen::arbitrary<bool>()),
      rc::gen::set(&GenSavepoint::resume, Rarely(true, 4)),
      rc::gen::set(&GenSavepoint::parallelism, Between<uint32_t>(0, 8)),
      rc::gen::set(&GenSavepoint::backend, Between<uint32_t>(0, 3)),
      rc::gen::set(&GenSavepoint::claim, rc::gen::arbitrary<bool>()),
      rc::gen::set(&GenSavepoint::trigger, Trigger()));
}

rc::Gen<GenNemesis> Nemesis() {
  const auto rate = rc::gen::build<GenNemesis::Rate>(
      rc::gen::set(&GenNemesis::Rate::kind, rc::gen::inRange<uint32_t>(0, kKindCount)),
      rc::gen::set(&GenNemesis::Rate::per_minute, Between<uint32_t>(1, 30)));
  return rc::gen::build<GenNemesis>(
      rc::gen::set(&GenNemesis::enabled, Rarely(false, 3)),
      rc::gen::set(&GenNemesis::fault_phase_ms, Between<uint32_t>(500, 5000)),
      rc::gen::set(&GenNemesis::swarm, rc::gen::arbitrary<bool>()),
      rc::gen::set(&GenNemesis::rates, BoundedList<GenNemesis::Rate>(1, 6, rate)));
}

rc::Gen<GeneratedCase> Case(const GenerateOptions& options) {
  rc::Gen<GenNemesis> nemesis = options.nemesis ? Nemesis() : rc::gen::just(GenNemesis{});
  return rc::gen::build<GeneratedCase>(
      rc::gen::set(&GeneratedCase::job, Job()), rc::gen::set(&GeneratedCase::workload, Workload()),
      rc::gen::set(&GeneratedCase::world, World()),
      rc::gen::set(&GeneratedCase::checkpointing, Checkpointing()),
      rc::gen::set(&GeneratedCase::faults, FaultPlan(options.max_faults)),
      rc::gen::set(&GeneratedCase::nemesis, std::move(nemesis)),
      rc::gen::set(&GeneratedCase::rescale,
                   options.rescale ? Rescale() : rc::gen::just(GenRescale{})),
      rc::gen::set(&GeneratedCase::savepoint,
                   options.savepoint ? SavepointGen() : rc::gen::just(GenSavepoint{})));
}

}  // namespace faultline::search::gen

namespace faultline::search {

void showValue(const GeneratedCase& c, std::ostream& os) {
  os << Describe(c) << "\n" << ToTextproto(ToScenario(c, "counterexample"));
}

}  // namespace faultline::search
