// GeneratedCase -> proto::Scenario: the job, the workload, the world and the checkpointing
// (search/generated_faults.cc converts the fault plan and the nemesis).
#include "search/generators.h"

#include <google/protobuf/text_format.h>

#include <algorithm>
#include <array>
#include <string>

#include "search/generated_faults.h"
#include "search/rc_generators.h"

namespace faultline::search {
namespace {

constexpr std::array<const char*, 5> kMaps = {"identity", "double", "negate", "add", "multiply"};
constexpr std::array<const char*, 4> kFilters = {"even-value", "odd-value", "value-at-least",
                                                 "value-below"};
constexpr std::array<const char*, 2> kFlatMaps = {"repeat", "fan-out-keys"};
constexpr std::array<const char*, 5> kAggregates = {"running-sum", "running-sum-and-count", "count",
                                                    "max", "min"};

template <size_t N>
std::string Pick(const std::array<const char*, N>& names, uint32_t index) {
  return names[index % N];
}

proto::Operator::Input InputOf(uint32_t input) {
  return static_cast<proto::Operator::Input>(input % 3);
}

void AddKeyBy(proto::Job* job, bool by_value, int64_t arg) {
  proto::KeyBy* key_by = job->add_operators()->mutable_key_by();
  if (by_value) {
    key_by->set_selector("value-mod");
    key_by->set_arg(std::clamp<int64_t>(arg, 1, 1000000));
  }
}

void AddSource(const GeneratedCase& c, proto::Job* job) {
  const GenWorkload& w = c.workload;
  const uint32_t parallelism = std::clamp<uint32_t>(c.job.source_parallelism, 1, 8);
  const uint32_t partitions = std::max(std::clamp<uint32_t>(w.partitions, 1, 64), parallelism);
  const uint32_t records = std::max<uint32_t>(w.records_per_partition, 1);
  proto::Operator* op = job->add_operators();
  op->set_name("source");
  op->set_parallelism(parallelism);
  // A subtask reads ceil(partitions / parallelism) partitions in source_ms.
  const uint64_t per_subtask = uint64_t{(partitions + parallelism - 1) / parallelism} * records;
  const uint64_t cost_us = std::max<uint64_t>(1, uint64_t{w.source_ms} * 1000 / per_subtask);
  op->set_record_cost(std::to_string(cost_us) + "us");
  proto::Source* s = op->mutable_source();
  s->set_partitions(partitions);
  s->set_records_per_partition(records);
  s->set_keys(std::clamp<uint32_t>(w.keys, 1, 1000000));
  s->set_key_pattern(static_cast<proto::Source::KeyPattern>(w.key_pattern % 3));
  s->set_value_pattern(static_cast<proto::Source::ValuePattern>(w.value_pattern % 4));
  switch (s->value_pattern()) {
    case proto::Source::CONSTANT:
      s->set_value(w.value);
      break;
    case proto::Source::CYCLE:
      s->set_modulus(std::max<uint32_t>(w.modulus, 1));
      break;
    case proto::Source::UNIFORM_RANGE:
      s->set_min(w.min);
      s->set_max(w.min + std::max<int64_t>(w.span, 0));
      break;
    default:
      break;
  }
  if (s->key_pattern() != proto::Source::SPREAD ||
      s->value_pattern() == proto::Source::UNIFORM_RANGE) {
    s->set_data_seed(w.data_seed);
  }
  s->set_max_records_per_read(std::clamp<uint32_t>(w.max_records_per_read, 1, 4096));
}

// One middle operator (and the key_by before an aggregate), named after its kind and position.
void AddOperator(const GenOperator& g, size_t index, proto::Job* job) {
  const std::string n = std::to_string(index + 1);
  if (g.kind == GenOperator::Kind::kAggregate) AddKeyBy(job, g.key_by_value, g.arg);
  proto::Operator* op = job->add_operators();
  op->set_parallelism(std::clamp<uint32_t>(g.parallelism, 1, 8));
  if (g.record_cost_us > 0) op->set_record_cost(std::to_string(g.record_cost_us) + "us");
  if (g.kind != GenOperator::Kind::kAggregate) op->set_input(InputOf(g.input));
  switch (g.kind) {
    case GenOperator::Kind::kMap: {
      op->set_name("map" + n);
      op->mutable_map()->set_function(Pick(kMaps, g.function));
      if (g.function % kMaps.size() >= 3) op->mutable_map()->set_arg(g.arg);
      break;
    }
    case GenOperator::Kind::kFilter: {
      op->set_name("filter" + n);
      op->mutable_filter()->set_predicate(Pick(kFilters, g.function));
      if (g.function % kFilters.size() >= 2) op->mutable_filter()->set_arg(g.arg * 10);
      break;
    }
    case GenOperator::Kind::kFlatMap: {
      op->set_name("flatmap" + n);
      op->mutable_flat_map()->set_function(Pick(kFlatMaps, g.function));
      op->mutable_flat_map()->set_arg(1 + (std::max<int64_t>(g.arg, 1) - 1) % 2);
      break;
    }
    case GenOperator::Kind::kAggregate: {
      op->set_name("agg" + n);
      op->mutable_aggregate()->set_function(Pick(kAggregates, g.function));
      break;
    }
  }
}

// The sink kind, within what the job promises: an at-least-once sink promises no exactly-once
// output (it becomes two-phase-commit in the exactly-once modes), and an upsert sink's final
// table is right only when each key's last value does not depend on the order records of that
// key arrive in from different channels: behind a keyed aggregate (sum, count, max and min are
// commutative), keyed by the same key (else it becomes two-phase-commit).
proto::Sink::Kind SinkKind(const GeneratedCase& c) {
  const auto kind = static_cast<proto::Sink::Kind>(c.job.sink_kind % 3);
  const bool at_least_once = c.checkpointing.mode % 3 == proto::Checkpointing::AT_LEAST_ONCE;
  if (kind == proto::Sink::AT_LEAST_ONCE && !at_least_once) return proto::Sink::TWO_PHASE_COMMIT;
  if (kind == proto::Sink::UPSERT) {
    const bool behind_aggregate = !c.job.operators.empty() &&
                                  c.job.operators.back().kind == GenOperator::Kind::kAggregate &&
                                  !c.job.operators.back().key_by_value;
    if (!behind_aggregate) return proto::Sink::TWO_PHASE_COMMIT;
  }
  return kind;
}

// A generated job is sized as its user would size it, so that a run without faults keeps up and
// LIVE judges recovery, not an overloaded job: no source record reaches the sink in more than
// kMaxCopies copies (a broadcast that would go past that becomes a rebalance), and no operator's
// subtask is busy more than kMaxBusy of its time with its records (its record cost lowered to
// fit). Rates assume every record passes every filter; a keyed edge gives a subtask up to 3/p of
// the records (skewed keys).
constexpr double kMaxCopies = 16;
constexpr double kMaxBusy = 0.5;

class LoadBound {
 public:
  explicit LoadBound(const GeneratedCase& c) {
    const GenWorkload& w = c.workload;
    const uint32_t parallelism = std::clamp<uint32_t>(c.job.source_parallelism, 1, 8);
    const uint32_t partitions = std::max(std::clamp<uint32_t>(w.partitions, 1, 64), parallelism);
    // As AddSource: each subtask emits its ceil(partitions / parallelism) partitions' records in
    // source_ms.
    const double per_subtask = static_cast<double>((partitions + parallelism - 1) / parallelism) *
                               std::max<uint32_t>(w.records_per_partition, 1);
    rate_ = parallelism * per_subtask * 1000.0 / std::max<uint32_t>(w.source_ms, 1);
  }

  // `g` sized to the records reaching it.
  GenOperator Fit(GenOperator g) {
    const double p = std::clamp<uint32_t>(g.parallelism, 1, 8);
    const bool keyed = g.kind == GenOperator::Kind::kAggregate;
    const bool broadcast = !keyed && Broadcast(g.input, p);
    if (!broadcast && !keyed && InputOf(g.input) == proto::Operator::BROADCAST) {
      g.input = static_cast<uint32_t>(proto::Operator::REBALANCE);
    }
    const double per_subtask = broadcast ? rate_ : rate_ * (keyed ? std::min(1.0, 3 / p) : 1 / p);
    const double busy_us = kMaxBusy * 1e6 / std::max(per_subtask, 1e-9);
    if (g.record_cost_us > busy_us) g.record_cost_us = static_cast<uint32_t>(busy_us);
    if (broadcast) Multiply(p);
    if (g.kind == GenOperator::Kind::kFlatMap) {
      Multiply(static_cast<double>(1 + (std::max<int64_t>(g.arg, 1) - 1) % 2));
    }
    return g;
  }

  // The sink's input, sized the same way.
  uint32_t SinkInput(uint32_t input, uint32_t parallelism) {
    const double p = std::clamp<uint32_t>(parallelism, 1, 8);
    if (InputOf(input) == proto::Operator::BROADCAST && !Broadcast(input, p)) {
      return static_cast<uint32_t>(proto::Operator::REBALANCE);
    }
    return input;
  }

 private:
  // Whether a broadcast edge into `p` subtasks stays within kMaxCopies.
  bool Broadcast(uint32_t input, double p) const {
    return InputOf(input) == proto::Operator::BROADCAST && copies_ * p <= kMaxCopies;
  }
  void Multiply(double factor) {
    copies_ *= factor;
    rate_ *= factor;
  }

  double rate_ = 0;    // records per second on the current edge, every copy counted
  double copies_ = 1;  // copies of one source record on it
};

void AddJob(const GeneratedCase& c, proto::Scenario* s) {
  proto::Job* job = s->mutable_job();
  AddSource(c, job);
  LoadBound load(c);
  for (size_t i = 0; i < c.job.operators.size(); ++i) {
    AddOperator(load.Fit(c.job.operators[i]), i, job);
  }
  const proto::Sink::Kind kind = SinkKind(c);
  const bool keyed = c.job.key_by_sink || kind == proto::Sink::UPSERT;
  if (keyed) AddKeyBy(job, false, 1);
  proto::Operator* sink = job->add_operators();
  sink->set_name("sink");
  sink->set_parallelism(std::clamp<uint32_t>(c.job.sink_parallelism, 1, 8));
  if (!keyed) sink->set_input(InputOf(load.SinkInput(c.job.sink_input, c.job.sink_parallelism)));
  sink->mutable_sink()->set_kind(kind);
}

void AddWorld(const GenWorld& w, proto::Scenario* s) {
  proto::Cluster* cluster = s->mutable_cluster();
  cluster->set_task_managers(std::clamp<uint32_t>(w.task_managers, 1, 5));
  const uint32_t heartbeat = std::max<uint32_t>(w.heartbeat_interval_ms, 1);
  cluster->set_heartbeat_interval(Ms(heartbeat));
  cluster->set_heartbeat_timeout(
      Ms(heartbeat * std::clamp<uint32_t>(w.heartbeat_timeout_factor, 2, 8)));
  cluster->set_connect_retry(Ms(std::max<uint32_t>(w.connect_retry_ms, 1)));
  proto::Network* net = s->mutable_network();
  net->set_latency(std::to_string(w.latency_us) + "us");
  net->set_latency_jitter_mean(std::to_string(w.jitter_us) + "us");
  net->set_bandwidth_bytes_per_second(std::max<int64_t>(w.bandwidth, 0));
  net->set_channel_credits(std::clamp<uint32_t>(w.channel_credits, 1, 1024));
  net->set_buffer_bytes(std::clamp<uint32_t>(w.buffer_bytes, 256, 16 << 20));
  net->set_buffer_timeout(Ms(w.buffer_timeout_ms));
  net->set_output_queue(std::clamp<uint32_t>(w.output_queue, 1, 1024));
  proto::Storage* storage = s->mutable_storage();
  storage->mutable_blob_store()->set_latency(std::to_string(w.blob_latency_us) + "us");
  storage->mutable_blob_store()->set_latency_jitter_mean(std::to_string(w.blob_jitter_us) + "us");
  storage->mutable_output_store()->set_latency(std::to_string(w.output_latency_us) + "us");
  const std::string delay = Ms(w.restart_delay_ms);
  switch (w.restart % 3) {
    case 0:
      s->mutable_restart()->mutable_fixed_delay()->set_delay(delay);
      break;
    case 1: {
      proto::ExponentialDelay* e = s->mutable_restart()->mutable_exponential_delay();
      const uint32_t initial = std::max<uint32_t>(w.restart_delay_ms, 1);
      e->set_initial_backoff(Ms(initial));
      e->set_max_backoff(Ms(std::max<uint32_t>(initial, 2000)));
      break;
    }
    default: {
      proto::FailureRate* f = s->mutable_restart()->mutable_failure_rate();
      f->set_delay(delay);
      f->set_max_failures(1000);  // a generated case keeps restarting: its faults are transient
      break;
    }
  }
}

void AddCheckpointing(const GeneratedCase& c, proto::Scenario* s) {
  const GenCheckpointing& g = c.checkpointing;
  proto::Checkpointing* cp = s->mutable_checkpointing();
  const auto mode = static_cast<proto::Checkpointing::Mode>(g.mode % 3);
  const bool unaligned = mode == proto::Checkpointing::UNALIGNED;
  if (unaligned && g.flink_unaligned_flag) {
    cp->set_mode(proto::Checkpointing::ALIGNED);
    cp->set_unaligned(true);
  } else {
    cp->set_mode(mode);
  }
  const uint32_t interval = IntervalMs(c);
  cp->set_interval(Ms(interval));
  cp->set_timeout(Ms(std::max<uint32_t>(g.timeout_ms, 1)));
  cp->set_min_pause(Ms(interval * std::min<uint32_t>(g.min_pause_permille, 1000) / 1000));
  cp->set_max_concurrent(unaligned ? 1 : std::clamp<uint32_t>(g.max_concurrent, 1, 4));
  cp->set_tolerable_failures(g.tolerable_failures);
  cp->set_retained(std::clamp<uint32_t>(g.retained, 1, 100));
  if (unaligned && g.aligned_timeout_ms > 0)
    cp->set_aligned_checkpoint_timeout(Ms(g.aligned_timeout_ms));
  cp->set_on_unreadable(g.fallback ? proto::Checkpointing::FALLBACK : proto::Checkpointing::FAIL);
  if (g.backend % 3 != 0) {
    cp->set_backend(proto::Checkpointing::ROCKSDB);
    if (g.backend % 3 == 2) {
      cp->set_incremental(true);
      cp->set_compaction_trigger(std::clamp<uint32_t>(g.compaction_trigger, 1, 4));
    }
  }
}

}  // namespace

std::string Ms(uint64_t ms) {
  return ms == 0 ? "0" : std::to_string(ms) + "ms";
}

uint32_t IntervalMs(const GeneratedCase& c) {
  return std::max<uint32_t>(20, c.workload.source_ms * c.checkpointing.interval_permille / 1000);
}

uint32_t RunLimitMs(const GeneratedCase& c) {
  return 2 * c.workload.source_ms + 60000;
}

proto::Scenario ToScenario(const GeneratedCase& c, const std::string& name) {
  return ToScenario(c, name, JobTargets(c));
}

proto::Scenario ToScenario(const GeneratedCase& c, const std::string& name,
                           const std::vector<FaultTarget>& targets) {
  proto::Scenario s;
  s.set_name(name);
  s.set_description("generated: " + Describe(c));
  s.set_seed(1);
  s.set_run_limit(Ms(RunLimitMs(c)));
  AddJob(c, &s);
  AddWorld(c.world, &s);
  AddCheckpointing(c, &s);
  AddFaults(c, targets, &s);
  AddNemesis(c, &s);
  AddRescale(c, targets, &s);
  AddSavepoint(c, targets, &s);
  s.mutable_expect()->set_verdict(proto::Expectation::PASS);
  return s;
}

GeneratedCase GenerateCase(uint64_t seed, const GenerateOptions& options) {
  return gen::Case(options)(rc::Random(seed), options.size).value();
}

proto::Scenario GenerateScenario(uint64_t seed, const GenerateOptions& options) {
  return ToScenario(GenerateCase(seed, options), "generated-" + std::to_string(seed));
}

std::string Describe(const GeneratedCase& c) {
  uint32_t highest = std::max(c.job.source_parallelism, c.job.sink_parallelism);
  for (const GenOperator& op : c.job.operators) highest = std::max(highest, op.parallelism);
  static constexpr std::array<const char*, 3> kModes = {"ALIGNED", "UNALIGNED", "AT_LEAST_ONCE"};
  static constexpr std::array<const char*, 3> kBackends = {"", " on RocksDB",
                                                           " on RocksDB (incremental)"};
  std::string out = std::to_string(c.job.operators.size() + 2) +
                    " operators (parallelism <= " + std::to_string(highest) + "), " +
                    std::to_string(std::max(c.workload.partitions, c.job.source_parallelism) *
                                   c.workload.records_per_partition) +
                    " records over " + Ms(c.workload.source_ms) + ", " +
                    kModes[c.checkpointing.mode % 3] + " every " + Ms(IntervalMs(c)) +
                    kBackends[c.checkpointing.backend % 3] + ", " +
                    std::to_string(c.world.task_managers) + " TaskManagers, " +
                    std::to_string(c.faults.size()) + " planned faults";
  if (!c.faults.empty()) out += " (" + DescribeFaults(c) + ")";
  if (c.nemesis.enabled) out += ", nemesis of " + std::to_string(c.nemesis.rates.size()) + " kinds";
  if (c.rescale.enabled) out += ", a rescale";
  if (c.savepoint.enabled) {
    out += c.savepoint.stop ? ", a stop-with-savepoint" : ", a savepoint";
    if (c.savepoint.resume) out += " resumed";
  }
  return out;
}

std::string ToTextproto(const proto::Scenario& scenario) {
  std::string text;
  google::protobuf::TextFormat::Printer printer;
  printer.PrintToString(scenario, &text);
  return text;
}

}  // namespace faultline::search
