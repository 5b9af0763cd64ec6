// Generated scenarios for property tests and `faultline explore --generate`.
//
// A generated case is a plain value (GeneratedCase: a job shape, a workload, a world, a
// checkpoint configuration, a fault plan and a nemesis profile) that RapidCheck generates and
// shrinks (search/rc_generators.h holds the rc::Gen; this header has no RapidCheck in it), and
// that ToScenario turns into a valid proto::Scenario: written out as a textproto, `faultline
// check` accepts it. Settings that depend on each other (an interval against the source's run
// time, a node number against the cluster size) are kept as fractions and indices and resolved
// by ToScenario, so every shrink of a valid case is valid too.
//
//   proto::Scenario s = search::GenerateScenario(/*seed=*/42, {});  // the same on every machine
//
// The generator never reads teaching switches: a caller adds them to the scenario afterwards.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scenarios/scenario.pb.h"

namespace faultline::search {

namespace proto = ::faultline::scenario;

// One operator between the source and the sink.
struct GenOperator {
  enum class Kind : uint8_t { kMap, kFilter, kFlatMap, kAggregate };
  Kind kind = Kind::kMap;
  uint32_t function = 0;      // index into the kind's catalogue (mod its size)
  int64_t arg = 1;            // for the functions that take one
  uint32_t parallelism = 1;   // 1..8
  uint32_t input = 0;         // proto::Operator::Input (ignored after a key_by)
  bool key_by_value = false;  // aggregate: key_by "value-mod" instead of "key"
  uint32_t record_cost_us = 0;
};

struct GenJob {
  uint32_t source_parallelism = 1;
  std::vector<GenOperator> operators;  // between source and sink: 0..4 (2..6 operators in all)
  uint32_t sink_parallelism = 1;
  uint32_t sink_input = 0;   // proto::Operator::Input
  uint32_t sink_kind = 0;    // proto::Sink::Kind
  bool key_by_sink = false;  // a key_by right before the sink
};

struct GenWorkload {
  uint32_t partitions = 1;  // raised to the source's parallelism
  uint32_t records_per_partition = 100;
  uint32_t keys = 1;
  uint32_t key_pattern = 0;    // proto::Source::KeyPattern
  uint32_t value_pattern = 0;  // proto::Source::ValuePattern
  int64_t value = 1;           // CONSTANT
  uint32_t modulus = 1;        // CYCLE
  int64_t min = 0;             // UNIFORM_RANGE: [min, min + span]
  int64_t span = 0;
  uint64_t data_seed = 1;
  uint32_t max_records_per_read = 1;
  // Simulated time a source subtask takes to emit its partitions; the source's record_cost is
  // derived from it, so fewer records keep the run long enough for checkpoints and faults.
  uint32_t source_ms = 3000;
};

struct GenWorld {
  uint32_t task_managers = 1;  // 1..5
  uint32_t heartbeat_interval_ms = 500;
  uint32_t heartbeat_timeout_factor = 6;  // timeout = interval x factor (2..8)
  uint32_t connect_retry_ms = 20;
  uint32_t latency_us = 100;
  uint32_t jitter_us = 50;
  int64_t bandwidth = 0;  // bytes/s per link; 0: unlimited
  uint32_t channel_credits = 2;
  uint32_t buffer_bytes = 32768;
  uint32_t buffer_timeout_ms = 100;
  uint32_t output_queue = 2;
  uint32_t blob_latency_us = 2000;
  uint32_t blob_jitter_us = 3000;
  uint32_t output_latency_us = 500;
  uint32_t restart = 0;  // 0 fixed delay, 1 exponential delay, 2 failure rate
  uint32_t restart_delay_ms = 500;
};

struct GenCheckpointing {
  uint32_t mode = 0;                 // proto::Checkpointing::Mode
  uint32_t interval_permille = 100;  // of the source's run time (at least 20ms)
  uint32_t timeout_ms = 10000;
  uint32_t min_pause_permille = 0;  // of the interval
  uint32_t max_concurrent = 1;      // 1..4 (1 when unaligned, as the engine requires)
  uint32_t tolerable_failures = 0;
  uint32_t retained = 1;
  uint32_t aligned_timeout_ms = 0;    // UNALIGNED only; 0: unset
  bool fallback = false;              // on_unreadable FALLBACK
  bool flink_unaligned_flag = false;  // UNALIGNED written as `unaligned: true`
  uint32_t backend = 0;               // 0 heap, 1 RocksDB (full), 2 RocksDB incremental
  uint32_t compaction_trigger = 2;    // incremental: level-0 files that start a compaction
};

struct GenTrigger {
  bool on_event = false;
  uint32_t at_permille = 0;  // of the source's run time, < 800
  uint32_t event = 0;        // index into the trigger events (mod their count)
  uint32_t checkpoint = 1;   // checkpoint-triggered: 1..3
  uint32_t occurrence = 1;   // 1..3
  uint32_t delay_ms = 0;
  uint32_t target = 0;         // task events: which operator (mod count); 0 and up
  uint32_t subtask = 0;        // ... and which of its subtasks (mod parallelism)
  bool named_subtask = false;  // false: any subtask
};

struct GenFault {
  uint32_t kind = 0;  // index into faults::kFaultKinds
  GenTrigger trigger;
  uint32_t node = 0;    // resolved mod the node count
  uint32_t node_b = 1;  // the other end of a link
  bool every_link = false;
  uint32_t duration_ms = 100;
  uint32_t restart_after_ms = 100;
  bool never_restart = false;
  bool lose_disk = false;
  uint32_t extra_latency_ms = 1;
  int64_t bandwidth = 1000000;
  uint32_t side_mask = 1;  // partition: nodes in side_a
  bool heals = true;
  uint32_t scope_count = 1;
  uint32_t scope_duration_ms = 0;  // 0: unset
  uint32_t scope_prefix = 0;       // 0: every operation, 1: "checkpoints/"
  int32_t offset_ms = 1;           // clock skew (0 becomes 1ms)
  int32_t drift_ppm = 1;           // clock drift (0 becomes 1)
  uint32_t rate_percent = 50;      // blob throttle, 1..100
  uint32_t bytes_from_end = 0;     // blob corruption: 0 unset
  uint32_t target = 0;             // fail_task: which operator ...
  uint32_t subtask = 0;            // ... and which subtask
};

struct GenNemesis {
  bool enabled = false;
  uint32_t fault_phase_ms = 1000;
  bool swarm = false;
  struct Rate {
    uint32_t kind = 0;
    uint32_t per_minute = 1;
  };
  std::vector<Rate> rates;  // a kind listed twice counts once
};

// An operator's rescale during the run (a `rescale` plan entry): every operator to the job's
// highest parallelism plus `extra` (at most 8). Not written for unaligned checkpoints (refused)
// or a job with a broadcast edge (more parallelism there multiplies the records downstream).
struct GenRescale {
  bool enabled = false;
  uint32_t extra = 0;  // 0..4
  GenTrigger trigger;
};

// An operator's savepoint (a `savepoint` plan entry): intermediate or stop-with-savepoint, most
// often resumed from at once, at parallelism `parallelism` (0: unchanged; at most 8), on state
// backend `backend` (scenario.proto's Savepoint.Backend number), in claim mode or not. Not
// written for unaligned checkpoints (refused); a job with a broadcast edge keeps its parallelism.
struct GenSavepoint {
  bool enabled = false;
  bool stop = false;
  bool resume = false;
  uint32_t parallelism = 0;  // 0..8
  uint32_t backend = 0;      // 0..3
  bool claim = false;
  GenTrigger trigger;
};

struct GeneratedCase {
  GenJob job;
  GenWorkload workload;
  GenWorld world;
  GenCheckpointing checkpointing;
  std::vector<GenFault> faults;
  GenNemesis nemesis;
  GenRescale rescale;      // drawn after the fields above: they keep their values for a seed
  GenSavepoint savepoint;  // drawn last, likewise
};

// What the generator may produce.
struct GenerateOptions {
  uint32_t max_faults = 4;  // planned fault entries (at least 1)
  bool nemesis = true;      // add a nemesis profile to some cases
  int size = 100;           // RapidCheck's size for GenerateScenario (100: full ranges)
  bool rescale = true;      // add an operator's rescale to some cases (beside max_faults)
  bool savepoint = true;    // add an operator's savepoint to some cases (beside max_faults)
};

// An operator faults and triggers may name ("<name>#<subtask>"), with its parallelism.
struct FaultTarget {
  std::string name;
  uint32_t parallelism = 1;
};

// The scenario a case describes: valid (ValidateScenario accepts it), named `name`, with seed 1,
// the default checkers of its mode and no teaching switch.
proto::Scenario ToScenario(const GeneratedCase& c, const std::string& name);
// The same, with fault entries and triggers naming subtasks of `targets` (a user's own job run
// with scenarios::RunJob) instead of the case's own operators; `targets` is not empty.
proto::Scenario ToScenario(const GeneratedCase& c, const std::string& name,
                           const std::vector<FaultTarget>& targets);
// The operators of the case's own job.
std::vector<FaultTarget> JobTargets(const GeneratedCase& c);

// The case and the scenario seed `seed` generates: the same on every machine and compiler.
GeneratedCase GenerateCase(uint64_t seed, const GenerateOptions& options);
proto::Scenario GenerateScenario(uint64_t seed, const GenerateOptions& options);

// A one-line summary of a case, for a shrunk counterexample: "job 4 ops p<=3, 1200 records,
// ALIGNED every 300ms, 2 faults (crash_task_manager@1.2s, blob_outage@checkpoint-triggered)".
std::string Describe(const GeneratedCase& c);

// The textproto of a scenario (protobuf text format, as scenario files are written).
std::string ToTextproto(const proto::Scenario& scenario);

}  // namespace faultline::search
