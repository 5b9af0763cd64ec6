// The scenario loader: durations, parsing and its error positions, semantic validation with
// field paths, the conversion to engine and simulator types, every malformed scenario of
// tests/malformed_scenarios/, and the library's happy path run end to end on the simulator.
#include "scenarios/loader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/rng.h"
#include "checkers/eo_out.h"
#include "checkers/order_log.h"
#include "checkers/run_view.h"

namespace faultline::scenarios {
namespace {

// A valid scenario to mutate: source -> key_by -> sum -> 2PC sink, parallelism 4.
constexpr std::string_view kBase = R"pb(
  name: "base"
  job {
    parallelism: 4
    operators { source { partitions: 4 records_per_partition: 10 } }
    operators { key_by {} }
    operators {
      name: "sum"
      aggregate { function: "running-sum" }
    }
    operators {
      name: "out"
      sink {}
    }
  }
)pb";

Result<Scenario> Parse(std::string_view extra) {
  return ParseScenario(std::string(kBase) + std::string(extra), "t.textproto");
}

// Expects `text` (after kBase) to be refused with a message containing `expected`.
void ExpectRefused(std::string_view extra, std::string_view expected) {
  Result<Scenario> s = Parse(extra);
  ASSERT_FALSE(s.ok()) << "accepted: " << extra;
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find(expected), std::string_view::npos)
      << "message: " << s.status().message() << "\nexpected: " << expected;
}

// ---- durations ------------------------------------------------------------------------------

TEST(ParseDurationTest, AcceptsNumbersWithUnits) {
  EXPECT_EQ(ParseDuration("250ms")->nanos(), 250'000'000);
  EXPECT_EQ(ParseDuration("1.5s")->nanos(), 1'500'000'000);
  EXPECT_EQ(ParseDuration("2m")->nanos(), 120'000'000'000);
  EXPECT_EQ(ParseDuration("1h")->nanos(), 3'600'000'000'000);
  EXPECT_EQ(ParseDuration("7ns")->nanos(), 7);
  EXPECT_EQ(ParseDuration("0.25us")->nanos(), 250);
  EXPECT_EQ(ParseDuration("0")->nanos(), 0);
  EXPECT_EQ(ParseDuration("-200ms")->nanos(), -200'000'000);
  EXPECT_EQ(ParseDuration("24h")->nanos(), Duration::Seconds(86400).nanos());
}

TEST(ParseDurationTest, RefusesEverythingElse) {
  for (std::string_view bad :
       {"", "s", "1", "1 s", "1sec", "1.s", ".5s", "--1s", "1.5ns", "24.000000000001h", "25h",
        "99999999999999999999s", "1e3s", "+1s", "1s ", "0x10s", "nan", "-", "1.2.3s"}) {
    Result<Duration> d = ParseDuration(bad);
    EXPECT_FALSE(d.ok()) << "accepted \"" << bad << "\"";
    if (!d.ok()) {
      EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

// ---- syntax ---------------------------------------------------------------------------------

TEST(ParseScenarioTest, SyntaxErrorsAreOneBasedFileLineColumn) {
  Result<Scenario> s = ParseScenario("name: \"x\"\njob {\n  bogus: 1\n}\n", "f.textproto");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message().substr(0, 16), "f.textproto:3:3:") << s.status().message();
  EXPECT_NE(s.status().message().find("bogus"), std::string_view::npos);
}

TEST(ParseScenarioTest, UnknownEnumValueIsReportedAtTheValueWithTheKnownValues) {
  Result<Scenario> s = ParseScenario(
      "name: \"e\"\njob { operators { source {} } operators { sink {} } }\n"
      "checkpointing {\n  interval: \"1s\"\n  mode: FAST\n}\n",
      "f.textproto");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(),
            "f.textproto:5:9: expected a value of mode (ALIGNED, UNALIGNED, AT_LEAST_ONCE), got "
            "\"FAST\"");
}

TEST(ParseScenarioTest, EmptyAndGarbageInputsAreAnsweredNotCrashedOn) {
  for (std::string_view text :
       {std::string_view(""), std::string_view("{"), std::string_view("}}}"),
        std::string_view("\0\0\0", 3), std::string_view("name: \"\\xff\\xfe\""),
        std::string_view("job { operators { source { partitions: 99999999999999999999 } } }"),
        std::string_view("faults { trigger { on { event: \"ack-sent\" } } }")}) {
    Result<Scenario> s = ParseScenario(text, "g.textproto");
    EXPECT_FALSE(s.ok());
    if (!s.ok()) {
      EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(ParseScenarioTest, MissingFileIsNotFound) {
  Result<Scenario> s = LoadScenarioFile("/nonexistent/dir/none.textproto");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
}

// ---- semantic validation --------------------------------------------------------------------

TEST(ValidateScenarioTest, BaseIsValid) {
  Result<Scenario> s = Parse("");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(ValidateScenario(s->spec).ok());
}

TEST(ValidateScenarioTest, TransactionTimeoutReachesTheWorldOrIsRefusedWhereItIs) {
  Result<Scenario> s = Parse("storage { output_transaction_timeout: \"15m\" }");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Result<sim::JobWorldOptions> world = ToJobWorldOptions(s->spec);
  ASSERT_TRUE(world.ok());
  EXPECT_EQ(world->world.output_transaction_timeout, Duration::Seconds(900));

  Result<Scenario> bad = ParseScenario(
      "name: \"t\"\njob {\n  operators { source {} }\n  operators { sink {} }\n}\n"
      "storage {\n  output_transaction_timeout: \"0ms\"\n}\n",
      "t.textproto");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "t.textproto:7:3: storage.output_transaction_timeout: must be positive, got \"0ms\"");
}

TEST(ValidateScenarioTest, SemanticErrorsNameTheFieldPathAndWhereItIs) {
  Result<Scenario> s = ParseScenario(
      "name: \"p\"\njob {\n  operators { source { partitions: 8 } }\n  operators { key_by {} }\n"
      "  operators {\n    parallelism: 8\n    max_parallelism: 4\n"
      "    aggregate { function: \"count\" }\n  }\n  operators { sink {} }\n}\n",
      "p.textproto");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(),
            "p.textproto:6:5: job.operators[2].parallelism: 8 is above max_parallelism 4");
  // ValidateScenario alone: the path without a position.
  proto::Scenario spec;
  spec.set_name("p");
  auto* job = spec.mutable_job();
  job->add_operators()->mutable_source()->set_partitions(8);
  job->add_operators()->mutable_key_by();
  auto* agg = job->add_operators();
  agg->set_parallelism(8);
  agg->set_max_parallelism(4);
  agg->mutable_aggregate()->set_function("count");
  job->add_operators()->mutable_sink();
  const Status status = ValidateScenario(spec);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "job.operators[2].parallelism: 8 is above max_parallelism 4");
}

TEST(ValidateScenarioTest, AnAbsentFieldIsLocatedAtItsNearestWrittenParent) {
  Result<Scenario> s =
      ParseScenario("name: \"p\"\njob {\n  operators { source {} }\n}\n", "p.textproto");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(),
            "p.textproto:3:3: job.operators[0]: the last operator must be a sink, not source "
            "(missing sink)");
  Result<Scenario> nameless = ParseScenario("job {}\n", "n.textproto");
  ASSERT_FALSE(nameless.ok());
  EXPECT_EQ(nameless.status().message(), "n.textproto: name: missing: a scenario needs a name");
}

// Expects a scenario of `job` alone to be refused with a message containing `expected`.
void ExpectJobRefused(std::string_view job, std::string_view expected) {
  Result<Scenario> s = ParseScenario("name: \"t\"\n" + std::string(job), "t.textproto");
  ASSERT_FALSE(s.ok()) << "accepted: " << job;
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find(expected), std::string_view::npos)
      << "message: " << s.status().message() << "\nexpected: " << expected;
}

TEST(ValidateScenarioTest, JobRules) {
  ExpectJobRefused("job { operators { source {} } operators { source {} } operators { sink {} } }",
                   "job.operators[1]: a job has one source");
  ExpectJobRefused("job { operators { source {} } operators { sink {} } operators { sink {} } }",
                   "job.operators[1]: a job has one sink, and it comes last");
  ExpectJobRefused(
      "job { operators { source {} } operators { key_by {} } operators { key_by {} } "
      "operators { sink {} } }",
      "job.operators[1]: key_by must be followed by an aggregate or the sink");
  ExpectJobRefused(
      "job { operators { source {} } operators { key_by {} } operators { map { "
      "function: \"double\" } } operators { sink {} } }",
      "key_by must be followed by an aggregate or the sink, not map");
  ExpectJobRefused(
      "job { operators { source {} } operators { key_by { selector: \"value-mod\" } } "
      "operators { sink {} } }",
      "job.operators[1].key_by.arg: missing: value-mod needs an arg");
  ExpectJobRefused(
      "job { operators { source {} } operators { name: \"k\" key_by {} } "
      "operators { sink {} } }",
      "job.operators[1].name: key_by is not an operator of its own");
  ExpectJobRefused(
      "job { operators { source {} } operators { map { function: \"add\" } } "
      "operators { sink {} } }",
      "job.operators[1].map.arg: missing: add needs an arg");
  ExpectJobRefused(
      "job { operators { source {} } operators { map { function: \"double\" arg: 3 } } "
      "operators { sink {} } }",
      "job.operators[1].map.arg: double takes no arg");
  ExpectJobRefused(
      "job { operators { source {} } operators { flat_map { function: \"repeat\" arg: "
      "17 } } operators { sink {} } }",
      "job.operators[1].flat_map.arg: 17 is outside [1, 16]");
  ExpectJobRefused(
      "job { operators { source {} } operators { name: \"a+b\" map { function: "
      "\"double\" } } operators { sink {} } }",
      "job.operators[1].name: \"a+b\" is not a name");
  ExpectJobRefused(
      "job { operators { source {} } operators { max_parallelism: 8 map { function: "
      "\"double\" } } operators { sink {} } }",
      "job.operators[1].max_parallelism: only keyed aggregates");
  ExpectJobRefused("job { operators { source {} input: REBALANCE } operators { sink {} } }",
                   "job.operators[0].input: the source has no input");
  ExpectJobRefused(
      "job { operators { source { partitions: 2 } parallelism: 3 } "
      "operators { sink {} } }",
      "job.operators[0].parallelism: 3 is above the source's 2 partitions");
  ExpectJobRefused(
      "job { operators { source { partitions: 1000 records_per_partition: 100000 } } "
      "operators { sink {} } }",
      "job.operators[0].source.records_per_partition: 1000 partitions x 100000 records");
  ExpectJobRefused(
      "job { parallelism: 4096 operators { source { partitions: 1024 "
      "records_per_partition: 1 } "
      "parallelism: 1024 } operators { sink {} } }",
      "job.operators: the job has 5120 subtasks, more than 4096");
  ExpectJobRefused(
      "job { operators { source { value_pattern: UNIFORM_RANGE min: 5 max: 1 } } "
      "operators { sink {} } }",
      "job.operators[0].source.max: 1 is below min 5");
}

TEST(ValidateScenarioTest, WorldRules) {
  ExpectRefused("cluster { task_managers: 0 }", "cluster.task_managers: 0 is outside [1, 256]");
  ExpectRefused("cluster { task_managers: 2 slots_per_task_manager: 1 }",
                "cluster.slots_per_task_manager: 2 task managers x 1 slots = 2 slots, fewer than "
                "the job's highest parallelism 4");
  ExpectRefused("cluster { heartbeat_interval: \"5s\" }",
                "cluster.heartbeat_interval: the heartbeat timeout 3s must be longer");
  ExpectRefused("network { channel_credits: 2000 }",
                "network.channel_credits: 2000 is outside [1, 1024]");
  ExpectRefused("network { bandwidth_bytes_per_second: -5 }",
                "network.bandwidth_bytes_per_second: must not be negative");
  ExpectRefused("storage { blob_store { latency: \"-1ms\" } }",
                "storage.blob_store.latency: must not be negative");
  ExpectRefused("storage { disk_capacity_bytes: 0 }", "storage.disk_capacity_bytes: must be");
  ExpectRefused("storage { output_transaction_timeout: \"0\" }",
                "storage.output_transaction_timeout: must be positive, got \"0\"");
  ExpectRefused("storage { output_transaction_timeout: \"-2s\" }",
                "storage.output_transaction_timeout: must be positive");
  ExpectRefused("storage { output_transaction_timeout: \"15 minutes\" }",
                "storage.output_transaction_timeout: ");
  ExpectRefused("restart { exponential_delay { initial_backoff: \"2s\" max_backoff: \"1s\" } }",
                "restart.exponential_delay.max_backoff: 1s is below initial_backoff 2s");
  ExpectRefused("restart { exponential_delay { multiplier_percent: 50 } }",
                "restart.exponential_delay.multiplier_percent: 50 is outside [100, 10000]");
  ExpectRefused("restart { failure_rate { failure_interval: \"0\" } }",
                "restart.failure_rate.failure_interval: must be positive");
  ExpectRefused("run_limit: \"0\"", "run_limit: must be positive");
}

TEST(ValidateScenarioTest, CheckpointingAndVerdictRules) {
  ExpectRefused("checkpointing { max_concurrent: 0 }",
                "checkpointing.max_concurrent: 0 is outside [1, 16]");
  ExpectRefused("checkpointing { unaligned: true max_concurrent: 3 }",
                "checkpointing.max_concurrent: 3 contradicts unaligned checkpoints");
  ExpectRefused("checkpointing { retained: 0 }", "checkpointing.retained: 0 is outside");
  ExpectRefused("checkpointing { aligned_checkpoint_timeout: \"2s\" }",
                "checkpointing.aligned_checkpoint_timeout: switches aligned checkpoints to "
                "unaligned, and needs mode UNALIGNED (the mode is ALIGNED)");
  ExpectRefused("teaching_switches: [\"no-alignment\"] checkpointing { mode: UNALIGNED }",
                "teaching_switches[0]: no-alignment plants its mistake in aligned mode only");
  ExpectRefused("teaching_switches: [\"skip-checksum\", \"skip-checksum\"]",
                "teaching_switches[1]: \"skip-checksum\" is listed twice");
  ExpectRefused("checkers: [\"EO-OUT\"] checkpointing { mode: AT_LEAST_ONCE }",
                "checkers[0]: EO-OUT judges exactly-once runs");
  ExpectRefused("expect { verdict: VIOLATION }",
                "expect.checker: missing: a VIOLATION names the checker");
  ExpectRefused("expect { verdict: PASS checker: \"EO-OUT\" }",
                "expect.checker: only a VIOLATION names a checker");
  ExpectRefused("expect { verdict: VIOLATION checker: \"DET\" }",
                "expect.checker: DET is not enabled (enabled: EO-OUT, EO-CUT, DUR, REC, TXN, "
                "LIVE)");
  // The defaults of the mode are enabled when no checker is listed.
  EXPECT_TRUE(Parse("expect { verdict: VIOLATION checker: \"TXN\" }").ok());
}

TEST(ValidateScenarioTest, FaultRules) {
  ExpectRefused("faults { crash_job_manager { restart_after: \"1s\" } }",
                "faults[0].trigger: missing: when the fault fires");
  ExpectRefused("faults { trigger { at: \"1s\" } }",
                "faults[0]: no fault kind set (known: "
                "crash_task_manager, crash_job_manager");
  ExpectRefused(
      "faults { trigger { at: \"1s\" } crash_task_manager { task_manager: 0 "
      "never_restart: true } }",
      "faults[0].crash_task_manager.task_manager: node 0 is the JobManager");
  ExpectRefused("faults { trigger { at: \"1s\" } crash_job_manager {} }",
                "faults[0].crash_job_manager.restart_after: missing");
  ExpectRefused(
      "faults { trigger { at: \"1s\" } ends_by: \"0\" "
      "crash_job_manager { restart_after: \"1s\" } }",
      "faults[0].ends_by: must be a positive duration");
  ExpectRefused(
      "faults { trigger { at: \"1s\" } ends_by: \"soon\" "
      "crash_job_manager { restart_after: \"1s\" } }",
      "faults[0].ends_by");
  ExpectRefused("faults { trigger { at: \"1s\" } pause { duration: \"1s\" } }",
                "faults[0].pause.node: missing: which node");
  ExpectRefused("faults { trigger { at: \"1s\" } pause { node: 4 duration: \"1s\" } }",
                "faults[0].pause.node: node 4 does not exist (the JobManager is node 0, task "
                "managers are nodes 1..3)");
  ExpectRefused(
      "faults { trigger { at: \"1s\" } latency_spike { link { a: 1 b: 1 } "
      "extra_latency: \"5ms\" duration: \"1s\" } }",
      "faults[0].latency_spike.link.b: a link joins two different nodes");
  ExpectRefused("faults { trigger { at: \"1s\" } slow_bandwidth { duration: \"1s\" } }",
                "faults[0].slow_bandwidth.bandwidth_bytes_per_second: must be positive");
  ExpectRefused("faults { trigger { at: \"1s\" } partition { side_a: [1] } }",
                "faults[0].partition.side_b: missing");
  ExpectRefused("faults { trigger { at: \"1s\" } blob_write_error { scope { count: 0 } } }",
                "faults[0].blob_write_error.scope.count: must be at least 1");
  ExpectRefused("faults { trigger { at: \"1s\" } disk_full { node: 9 duration: \"1s\" } }",
                "faults[0].disk_full.node: node 9 does not exist");
  ExpectRefused("faults { trigger { at: \"1s\" } clock_skew { node: 1 offset: \"0\" } }",
                "faults[0].clock_skew.offset: must not be zero");
  ExpectRefused("faults { trigger { at: \"1s\" } clock_drift { node: 1 drift_ppm: 2000000 } }",
                "faults[0].clock_drift.drift_ppm: 2000000 is zero or outside");
  ExpectRefused("faults { trigger { at: \"1s\" } source_unavailable {} }",
                "faults[0].source_unavailable.duration: missing: a positive duration");
  ExpectRefused(
      "faults { trigger { on { event: \"checkpoint-triggered\" subtask: \"sum#1\" } } "
      "crash_job_manager { never_restart: true } }",
      "faults[0].trigger.on.subtask: checkpoint-triggered is recorded by the "
      "JobManager, not a subtask");
  ExpectRefused(
      "faults { trigger { on { event: \"job-restart\" checkpoint: 2 } } "
      "crash_job_manager { never_restart: true } }",
      "faults[0].trigger.on.checkpoint: job-restart carries no checkpoint id");
  ExpectRefused(
      "faults { trigger { on { event: \"uploaded\" checkpoint: 0 } } "
      "crash_job_manager { never_restart: true } }",
      "faults[0].trigger.on.checkpoint: checkpoint ids start at 1");
  ExpectRefused(
      "faults { trigger { on { event: \"ack-sent\" input: 1 } } "
      "crash_job_manager { never_restart: true } }",
      "faults[0].trigger.on.input: only barrier-received names an input");
  ExpectRefused(
      "faults { trigger { on { event: \"barrier-received\" subtask: \"source#0\" "
      "input: 0 } } crash_job_manager { never_restart: true } }",
      "input 0 does not exist: source#0 has no input channels");
  ExpectRefused(
      "faults { trigger { on { event: \"ack-sent\" occurrence: 0 } } "
      "crash_job_manager { never_restart: true } }",
      "faults[0].trigger.on.occurrence: 0 is outside");
  ExpectRefused(
      "nemesis { fault_phase: \"50s\" quiet_phase: \"20s\" rates { kind: \"pause\" "
      "per_minute: 1 } }",
      "nemesis.quiet_phase: the fault phase 50s and quiet phase 20s do not fit in the "
      "run limit 60s");
  ExpectRefused("nemesis { fault_phase: \"10s\" rates { kind: \"pause\" per_minute: nan } }",
                "nemesis.rates[0].per_minute: must be positive");
  ExpectRefused("nemesis { fault_phase: \"10s\" }", "nemesis.rates: missing");
}

TEST(ValidateScenarioTest, TheIssuesEventTriggersAreAccepted) {
  // "checkpoint 3 triggered", "subtask sum#2 received barrier 5 on input 1", "2nd upload of
  // checkpoint 4", and a subtask named by its task name.
  Result<Scenario> s = Parse(R"pb(
    faults {
      name: "crash JM when checkpoint 3 is triggered"
      trigger { on { event: "checkpoint-triggered" checkpoint: 3 } }
      crash_job_manager { restart_after: "400ms" }
    }
    faults {
      trigger { on { event: "barrier-received" checkpoint: 5 subtask: "sum#2" input: 1 } }
      crash_task_manager { task_manager: 2 restart_after: "500ms" }
    }
    faults {
      trigger { on { event: "uploaded" checkpoint: 4 occurrence: 2 delay: "1ms" } }
      blob_write_error { scope { target_prefix: "checkpoints/chk-4/" count: 3 } }
    }
    faults {
      trigger { at: "2.5s" }
      fail_task { subtask: "sum+out#3" }
    }
    faults {
      trigger { at: "3s" }
      partition {
        side_a: [ 0 ]
        side_b: [ 1, 2, 3 ]
        heal_after: "2s"
      }
    }
    faults {
      trigger { at: "4s" }
      clock_skew { node: 2 offset: "-200ms" }
    }
    nemesis {
      fault_phase: "30s"
      quiet_phase: "20s"
      rates { kind: "crash_task_manager" per_minute: 2 }
      rates { kind: "blob_write_error" per_minute: 6 }
    }
  )pb");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
}

TEST(ResolveSubtaskTest, NamesOperatorSubtasksAndTasks) {
  Result<Scenario> s = Parse("");
  ASSERT_TRUE(s.ok());
  Result<engine::JobGraph> graph = ToJobGraph(s->spec);
  ASSERT_TRUE(graph.ok()) << graph.status().ToString();
  Result<engine::ExecutionPlan> plan = engine::BuildExecutionPlan(*graph, {1, 2, 3});
  ASSERT_TRUE(plan.ok());
  // Chains: source#0..3 and sum+out#0..3 (the keyed operator chains with its sink).
  const std::optional<uint32_t> by_operator = ResolveSubtask(*graph, *plan, "sum#2");
  const std::optional<uint32_t> by_sink = ResolveSubtask(*graph, *plan, "out#2");
  const std::optional<uint32_t> by_task = ResolveSubtask(*graph, *plan, "sum+out#2");
  ASSERT_TRUE(by_operator.has_value());
  EXPECT_EQ(by_operator, by_task);
  EXPECT_EQ(by_sink, by_task);
  EXPECT_EQ(plan->tasks[*by_task].name, "sum+out#2");
  for (std::string_view bad :
       {"sum#4", "sum#", "sum", "#1", "nothing#0", "sum#-1", "sum#1x", "sum#99999999999"}) {
    EXPECT_FALSE(ResolveSubtask(*graph, *plan, bad).has_value()) << bad;
  }
}

// ---- conversion -----------------------------------------------------------------------------

TEST(ConversionTest, SettingsReachTheEngineAndTheWorld) {
  Result<Scenario> s = Parse(R"pb(
    seed: 42
    cluster { task_managers: 2 heartbeat_timeout: "5s" }
    network { latency: "1ms" channel_credits: 4 buffer_bytes: 4096 buffer_timeout: "0" }
    storage { blob_store { latency: "10ms" bandwidth_bytes_per_second: 1000000 } }
    checkpointing {
      mode: UNALIGNED
      interval: "2s"
      timeout: "20s"
      min_pause: "100ms"
      retained: 3
      tolerable_failures: 2
      on_unreadable: FALLBACK
    }
    restart { failure_rate { delay: "1s" max_failures: 5 failure_interval: "30s" } }
    teaching_switches: [ "skip-checksum", "drop-channel-state" ]
  )pb");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Result<engine::EngineConfig> config = ToEngineConfig(s->spec);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->checkpoints.mode, engine::CheckpointMode::kUnaligned);
  EXPECT_EQ(config->checkpoints.interval, Duration::Seconds(2));
  EXPECT_EQ(config->checkpoints.timeout, Duration::Seconds(20));
  EXPECT_EQ(config->checkpoints.min_pause, Duration::Millis(100));
  EXPECT_EQ(config->checkpoints.retained, 3u);
  EXPECT_EQ(config->checkpoints.tolerable_failures, 2u);
  EXPECT_EQ(config->unreadable_checkpoint, engine::UnreadableCheckpointPolicy::kFallback);
  EXPECT_EQ(config->restart.kind, engine::RestartStrategy::Kind::kFailureRate);
  EXPECT_EQ(config->restart.delay, Duration::Seconds(1));
  EXPECT_EQ(config->restart.max_failures, 5u);
  EXPECT_EQ(config->restart.failure_interval, Duration::Seconds(30));
  EXPECT_EQ(config->channel_credits, 4u);
  EXPECT_EQ(config->buffer_bytes_max, 4096u);
  EXPECT_EQ(config->buffer_timeout, Duration::Zero());
  EXPECT_EQ(config->heartbeat_timeout, Duration::Seconds(5));
  EXPECT_TRUE(config->switches.skip_checksum);
  EXPECT_TRUE(config->switches.drop_channel_state);
  EXPECT_FALSE(config->switches.offset_after_emit);

  Result<sim::JobWorldOptions> world = ToJobWorldOptions(s->spec);
  ASSERT_TRUE(world.ok());
  EXPECT_EQ(world->world.seed, 42u);
  EXPECT_EQ(world->task_managers, 2u);
  EXPECT_EQ(world->source_partitions, 4u);
  EXPECT_EQ(world->world.network.default_link.latency_min, Duration::Millis(1));
  EXPECT_EQ(world->world.blob_store.latency_min, Duration::Millis(10));
  EXPECT_EQ(world->world.blob_store.bandwidth_bytes_per_second, 1'000'000);
  EXPECT_EQ(world->world.output_transaction_timeout, Duration::Zero());  // unset: never expire

  Result<engine::JobGraph> graph = ToJobGraph(s->spec);
  ASSERT_TRUE(graph.ok());
  ASSERT_EQ(graph->operators.size(), 3u);  // key_by is the keyed operator's input edge
  EXPECT_EQ(graph->name, "base");
  EXPECT_EQ(graph->operators[1].kind, engine::OperatorKind::kKeyedProcess);
  EXPECT_EQ(graph->operators[1].input_partitioner, engine::Partitioner::kHash);
  EXPECT_EQ(graph->operators[2].sink.kind, engine::SinkKind::kTwoPhaseCommit);
}

TEST(ConversionTest, IncrementalCheckpointsReachTheEngine) {
  Result<Scenario> s =
      Parse("checkpointing { backend: ROCKSDB incremental: true compaction_trigger: 1 }");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Result<engine::EngineConfig> config = ToEngineConfig(s->spec);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->state_backend);
  ExpectRefused("checkpointing { backend: ROCKSDB compaction_trigger: 2 }",
                "checkpointing.compaction_trigger: a compaction trigger needs incremental "
                "checkpoints");
  ExpectRefused(
      "teaching_switches: [\"delete-shared-on-subsume\"] checkpointing { backend: "
      "ROCKSDB }",
      "teaching_switches[0]: delete-shared-on-subsume plants its mistake in "
      "incremental checkpoints");
}

TEST(ConversionTest, TheRocksDbBackendReachesTheEngine) {
  Result<Scenario> heap = Parse("");
  Result<Scenario> rocks = Parse("checkpointing { backend: ROCKSDB }");
  ASSERT_TRUE(heap.ok() && rocks.ok());
  EXPECT_FALSE(ToEngineConfig(heap->spec)->state_backend);
  EXPECT_TRUE(ToEngineConfig(rocks->spec)->state_backend);
}

TEST(ConversionTest, AlignedCheckpointTimeoutReachesTheEngine) {
  Result<Scenario> s =
      Parse("checkpointing { mode: UNALIGNED aligned_checkpoint_timeout: \"250ms\" }");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Result<engine::EngineConfig> config = ToEngineConfig(s->spec);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->checkpoints.mode, engine::CheckpointMode::kUnaligned);
  EXPECT_EQ(config->checkpoints.aligned_timeout, Duration::Millis(250));
}

TEST(ConversionTest, CatalogueFunctionsComputeWhatTheirNamesSay) {
  Result<Scenario> s =
      ParseScenario(R"pb(
                      name: "catalogue"
                      job {
                        operators { source { partitions: 1 } }
                        operators { map { function: "add" arg: 10 } }
                        operators { filter { predicate: "value-at-least" arg: 12 } }
                        operators { flat_map { function: "fan-out-keys" arg: 2 } }
                        operators { key_by { selector: "value-mod" arg: 5 } }
                        operators { aggregate { function: "max" } }
                        operators { sink { kind: UPSERT } }
                      }
                    )pb",
                    "c.textproto");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Result<engine::JobGraph> graph = ToJobGraph(s->spec);
  ASSERT_TRUE(graph.ok()) << graph.status().ToString();
  const auto& ops = graph->operators;
  ASSERT_EQ(ops.size(), 6u);
  EXPECT_EQ(ops[1].name, "add");
  EXPECT_EQ(ops[1].map(engine::Record{"k", 5, {}}).value, 15);
  EXPECT_FALSE(ops[2].filter(engine::Record{"k", 11, {}}));
  EXPECT_TRUE(ops[2].filter(engine::Record{"k", 12, {}}));
  struct Into : engine::Collector {
    std::vector<engine::Record> out;
    void Emit(engine::Record r) override { out.push_back(std::move(r)); }
  } into;
  ops[3].flat_map(engine::Record{"k", 7, {}}, into);
  ASSERT_EQ(into.out.size(), 2u);
  EXPECT_EQ(into.out[0].key, "k/0");
  EXPECT_EQ(into.out[1].key, "k/1");
  EXPECT_EQ(ops[4].key_selector(engine::Record{"k", -7, {}}), "v3");
  EXPECT_EQ(ops[5].sink.kind, engine::SinkKind::kUpsert);
}

TEST(ConversionTest, GeneratedSourceLogFollowsThePatternsAndIgnoresTheSeed) {
  Result<Scenario> s = Parse("");
  ASSERT_TRUE(s.ok());
  auto log = GenerateSourceLog(s->spec);
  ASSERT_EQ(log.size(), 4u);
  ASSERT_EQ(log[1].size(), 10u);
  EXPECT_EQ(log[1][2].key, "k" + std::to_string((1 * 7919 + 2 * 31) % 100));
  EXPECT_EQ(log[1][2].value, 1);

  Result<Scenario> r = ParseScenario(R"pb(
                                       name: "random"
                                       seed: 5
                                       job {
                                         operators {
                                           source {
                                             partitions: 2
                                             records_per_partition: 500
                                             keys: 7
                                             key_pattern: ZIPF
                                             value_pattern: UNIFORM_RANGE
                                             min: -3
                                             max: 3
                                             data_seed: 9
                                           }
                                         }
                                         operators { sink {} }
                                       }
                                     )pb",
                                     "r.textproto");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto a = GenerateSourceLog(r->spec);
  r->spec.set_seed(6);
  auto b = GenerateSourceLog(r->spec);
  ASSERT_EQ(a.size(), 2u);
  for (size_t p = 0; p < a.size(); ++p) {
    ASSERT_EQ(a[p].size(), 500u);
    for (size_t i = 0; i < a[p].size(); ++i) {
      EXPECT_EQ(a[p][i].key, b[p][i].key);
      EXPECT_EQ(a[p][i].value, b[p][i].value);
      EXPECT_GE(a[p][i].value, -3);
      EXPECT_LE(a[p][i].value, 3);
    }
  }
  proto::Scenario invalid;
  EXPECT_TRUE(GenerateSourceLog(invalid).empty());
}

TEST(ConversionTest, DefaultCheckersFollowTheMode) {
  proto::Scenario s;
  s.mutable_job()->add_operators()->mutable_source();
  s.mutable_job()->add_operators()->mutable_sink()->set_kind(proto::Sink::AT_LEAST_ONCE);
  s.mutable_checkpointing()->set_mode(proto::Checkpointing::AT_LEAST_ONCE);
  EXPECT_EQ(EnabledCheckers(s), (std::vector<std::string>{"AL-LOSS", "DUR", "REC", "LIVE"}));
  EXPECT_TRUE(CheckerWarnings(s).empty());  // the defaults include AL-LOSS
  s.add_checkers("DET");
  EXPECT_EQ(EnabledCheckers(s), (std::vector<std::string>{"DET"}));
  ASSERT_EQ(CheckerWarnings(s).size(), 1u);
  EXPECT_NE(CheckerWarnings(s)[0].find("leaves out AL-LOSS"), std::string::npos);
  s.add_checkers("AL-LOSS");
  EXPECT_TRUE(CheckerWarnings(s).empty());
  s.mutable_checkpointing()->set_mode(proto::Checkpointing::ALIGNED);
  ASSERT_EQ(CheckerWarnings(s).size(), 1u);
  EXPECT_NE(CheckerWarnings(s)[0].find("leaves out EO-OUT"), std::string::npos);
}

// ---- the malformed-scenario suite -----------------------------------------------------------

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(MalformedScenariosTest, EveryFileIsRefusedWithItsExpectedMessage) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(FAULTLINE_MALFORMED_SCENARIOS_DIR)) {
    if (entry.path().extension() == ".textproto") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  EXPECT_GE(files.size(), 22u);
  for (const std::filesystem::path& file : files) {
    SCOPED_TRACE(file.filename().string());
    const std::string text = ReadFile(file);
    const std::string prefix = "# expect: ";
    ASSERT_EQ(text.rfind(prefix, 0), 0u) << "the first line must be \"# expect: <text>\"";
    const size_t eol = text.find('\n');
    ASSERT_NE(eol, std::string::npos);
    const std::string expected = text.substr(prefix.size(), eol - prefix.size());
    ASSERT_FALSE(expected.empty());
    // Loaded under its bare file name, so the expected text does not depend on the checkout.
    Result<Scenario> s = ParseScenario(text, file.filename().string());
    ASSERT_FALSE(s.ok()) << "accepted";
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << s.status().ToString();
    EXPECT_NE(s.status().message().find(expected), std::string_view::npos)
        << "message:  " << s.status().message() << "\nexpected: " << expected;
    // Through the file loader too: the same message behind the full path.
    Result<Scenario> loaded = LoadScenarioFile(file.string());
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument);
    const std::string_view full = loaded.status().message();
    EXPECT_EQ(full.substr(0, file.string().size()), file.string());
  }
}

// ---- robustness: every truncation and many mutations are answered, never crashed on -------

TEST(RobustnessTest, TruncationsAndMutationsOfValidScenariosAreAnswered) {
  const std::string happy = ReadFile(FAULTLINE_SCENARIO_LIBRARY_DIR "/happy_aligned.textproto");
  ASSERT_FALSE(happy.empty());
  const std::string base = std::string(kBase) + R"pb(
    faults {
      trigger { on { event: "barrier-received" checkpoint: 5 subtask: "sum#2" input: 1 } }
      crash_task_manager { task_manager: 2 restart_after: "500ms" }
    }
    nemesis {
      fault_phase: "30s"
      rates { kind: "pause" per_minute: 2 }
    }
  )pb";
  ASSERT_TRUE(ParseScenario(base, "b.textproto").ok());
  uint64_t accepted = 0;
  uint64_t refused = 0;
  auto attempt = [&](const std::string& text) {
    Result<Scenario> s = ParseScenario(text, "m.textproto");
    if (s.ok()) {
      ++accepted;
      // Whatever validates also converts (or says UNIMPLEMENTED), and generates its input.
      EXPECT_TRUE(ToJobGraph(s->spec).ok());
      EXPECT_TRUE(ToJobWorldOptions(s->spec).ok());
      Result<engine::EngineConfig> config = ToEngineConfig(s->spec);
      EXPECT_TRUE(config.ok() || config.status().code() == StatusCode::kUnimplemented);
      (void)GenerateSourceLog(s->spec);
    } else {
      ++refused;
      EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << s.status().ToString();
      EXPECT_NE(s.status().message().rfind("m.textproto", 0), std::string_view::npos);
    }
  };
  for (const std::string& text : {happy, base}) {
    for (size_t n = 0; n <= text.size(); ++n) attempt(text.substr(0, n));
  }
  // Mutations: a byte replaced by one of the characters that matter to the grammar, or deleted,
  // or a token duplicated.
  static constexpr std::string_view kBytes = "{}[]<>:\"'#-0919.,; \nxs\t\\";
  Rng rng(2024);
  for (int i = 0; i < 3000; ++i) {
    std::string text = rng.Bernoulli(0.5) ? happy : base;
    const int edits = 1 + static_cast<int>(rng.UniformU64(3));
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const size_t at = rng.UniformU64(text.size());
      switch (rng.UniformU64(3)) {
        case 0:
          text[at] = kBytes[rng.UniformU64(kBytes.size())];
          break;
        case 1:
          text.erase(at, 1);
          break;
        default:
          text.insert(at, text.substr(at, rng.UniformU64(12)));
          break;
      }
    }
    attempt(text);
  }
  EXPECT_GT(accepted, 0u);
  EXPECT_GT(refused, 0u);
}

TEST(RobustnessTest, NumericEnumValuesOutsideTheSchemaAreRefused) {
  for (std::string_view extra : {"checkpointing { mode: 7 }", "checkpointing { backend: -1 }",
                                 "expect { verdict: 9 }", "checkpointing { on_unreadable: 3 }"}) {
    Result<Scenario> s = Parse(extra);
    EXPECT_FALSE(s.ok()) << extra;
    if (!s.ok()) {
      EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

// ---- the library's happy path, run ----------------------------------------------------------

TEST(LibraryTest, HappyAlignedRunsToTheEndExactlyOnce) {
  Result<Scenario> s = LoadScenarioFile(FAULTLINE_SCENARIO_LIBRARY_DIR "/happy_aligned.textproto");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->spec.expect().verdict(), proto::Expectation::PASS);
  EXPECT_TRUE(s->spec.faults().empty());

  Result<engine::JobGraph> graph = ToJobGraph(s->spec);
  ASSERT_TRUE(graph.ok()) << graph.status().ToString();
  ASSERT_EQ(graph->operators.size(), 4u);
  EXPECT_EQ(graph->operators[0].parallelism, 4u);
  EXPECT_EQ(graph->operators[2].kind, engine::OperatorKind::kKeyedProcess);
  EXPECT_EQ(graph->operators[3].sink.kind, engine::SinkKind::kTwoPhaseCommit);
  Result<engine::EngineConfig> config = ToEngineConfig(s->spec);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->checkpoints.mode, engine::CheckpointMode::kAligned);
  EXPECT_EQ(config->checkpoints.interval, Duration::Seconds(1));
  Result<sim::JobWorldOptions> options = ToJobWorldOptions(s->spec);
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->task_managers, 3u);
  EXPECT_EQ(options->source_partitions, 4u);
  Result<Duration> limit = RunLimit(s->spec);
  ASSERT_TRUE(limit.ok());
  EXPECT_EQ(*limit, Duration::Seconds(60));

  sim::JobWorld* world = nullptr;
  checkers::OrderLog order(checkers::OrderLog::Options{
      .now = [&world] { return world == nullptr ? Time::Zero() : world->world().now(); }});
  config->observer = &order;
  Result<std::unique_ptr<sim::JobWorld>> created = sim::JobWorld::Create(*graph, *config, *options);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  sim::JobWorld& jw = **created;
  world = &jw;
  const std::vector<std::vector<engine::Record>> log = GenerateSourceLog(s->spec);
  ASSERT_EQ(log.size(), 4u);
  uint64_t records = 0;
  for (uint32_t p = 0; p < log.size(); ++p) {
    for (const engine::Record& r : log[p]) {
      jw.AddSourceRecord(p, r);
      ++records;
    }
  }
  EXPECT_EQ(records, 20000u);
  jw.Start();
  const engine::JobStatus status = jw.RunUntilDone(Time::Zero() + *limit);
  ASSERT_EQ(status, engine::JobStatus::kFinished);
  ASSERT_NE(jw.job_manager(), nullptr);
  EXPECT_EQ(jw.job_manager()->restarts(), 0u);
  EXPECT_GE(jw.job_manager()->latest_completed(), 4u) << "periodic checkpoints, then the final";
  EXPECT_EQ(jw.CommittedOutput().size(), records) << "one committed output per source record";

  Result<checkers::RunView> view = checkers::ViewOf(jw, &order);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  const checkers::Verdict verdict = checkers::CheckExactlyOnceOutput(*view);
  EXPECT_TRUE(verdict.passed()) << verdict.ToString();
}

}  // namespace
}  // namespace faultline::scenarios
