// The Chrome trace export of a real job run: parses back as Trace Event Format JSON, with one
// thread per task (named after it, on its TaskManager's process), every task event on its task's
// thread, complete flow arrows, a barrier flow from producer to consumer for every input channel
// of every completed checkpoint, and a span per checkpoint on the JobManager's process.
// FAULTLINE_CHROME_TRACE=run.json build/release/tests/chrome_trace_job_test keeps the file.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include "engine/exec/events.h"
#include "simulator/chrome_trace.h"
#include "simulator/job_world.h"
#include "tests/support/job_fixtures.h"

namespace faultline {
namespace {

using nlohmann::json;
using Thread = std::pair<int64_t, int64_t>;  // (pid, tid)

TEST(ChromeTraceJobTest, TaskTracksBarrierFlowsAndCheckpointSpans) {
  engine::EngineConfig config;
  config.checkpoints.interval = Duration::Millis(200);
  auto created = sim::JobWorld::Create(testing_support::KeyedJob(), config, sim::JobWorldOptions{});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  sim::JobWorld& jw = **created;
  testing_support::FillSource(jw, 4, 3000);  // about 0.9 s of input at 300 us per record
  jw.Start();
  ASSERT_EQ(jw.RunUntilDone(Time::Zero() + Duration::Seconds(30)), engine::JobStatus::kFinished);

  const engine::ExecutionPlan& plan = jw.setup().plan;
  std::vector<std::string> node_names;
  for (uint32_t n = 0; n < jw.world().node_count(); ++n) {
    node_names.push_back(jw.world().NodeName(n));
  }
  const std::vector<sim::TraceRecord>& records = jw.world().trace().records();
  const std::string text = sim::ToChromeTraceJson(records, node_names, sim::ChromeTraceTasks(plan));
  // FAULTLINE_CHROME_TRACE=FILE keeps the export, to open in ui.perfetto.dev.
  if (const char* keep = std::getenv("FAULTLINE_CHROME_TRACE")) {
    std::ofstream(keep, std::ios::binary) << text;
  }
  const json trace = json::parse(text);  // throws if it is not JSON

  // The checkpoints the run completed, from the trace itself.
  std::set<int64_t> completed;
  for (const sim::TraceRecord& r : records) {
    if (testing_support::IsEngineEvent(r, engine::EngineEvent::kPointerMoved)) {
      completed.insert(r.args[1]);
    }
  }
  ASSERT_GE(completed.size(), 3u);

  ASSERT_TRUE(trace.is_object());
  ASSERT_TRUE(trace.contains("traceEvents"));
  ASSERT_TRUE(trace["traceEvents"].is_array());
  std::map<Thread, std::string> thread_names;
  std::map<std::string, int> thread_name_count;
  std::set<Thread> used;
  std::map<uint64_t, std::pair<Thread, double>> flow_starts;  // id -> (thread, ts)
  std::map<uint64_t, std::pair<Thread, double>> flow_ends;
  std::map<uint64_t, int64_t> barrier_flow_checkpoint;
  std::map<int64_t, std::tuple<int64_t, double>> span_begins;  // checkpoint -> (pid, ts)
  std::map<int64_t, std::tuple<int64_t, double, std::string>> span_ends;
  std::vector<std::pair<Thread, std::string>> task_events;  // (thread, task named in detail)
  size_t slices = 0;
  for (const json& e : trace["traceEvents"]) {
    ASSERT_TRUE(e.is_object());
    ASSERT_TRUE(e.contains("ph") && e["ph"].is_string()) << e;
    ASSERT_TRUE(e.contains("pid") && e["pid"].is_number_integer()) << e;
    ASSERT_TRUE(e.contains("tid") && e["tid"].is_number_integer()) << e;
    ASSERT_TRUE(e.contains("ts") && e["ts"].is_number()) << e;
    ASSERT_TRUE(e.contains("name") && e["name"].is_string()) << e;
    const std::string ph = e["ph"].get<std::string>();
    const Thread thread{e["pid"].get<int64_t>(), e["tid"].get<int64_t>()};
    const double ts = e["ts"].get<double>();
    if (ph == "M") {
      ASSERT_TRUE(e["args"].is_object()) << e;
      if (e["name"] == "thread_name") {
        ASSERT_TRUE(e["args"]["name"].is_string()) << e;
        const std::string name = e["args"]["name"].get<std::string>();
        EXPECT_TRUE(thread_names.emplace(thread, name).second) << "named twice: " << e;
        ++thread_name_count[name];
      }
      continue;
    }
    used.insert(thread);
    if (ph == "X") {
      ++slices;
      ASSERT_TRUE(e["dur"].is_number()) << e;
      ASSERT_TRUE(e["args"].is_object()) << e;
      if (e["cat"] == "engine" && e["args"].contains("detail") &&
          (e["name"] == "barrier-emitted" || e["name"] == "barrier-received" ||
           e["name"] == "snapshot-captured" || e["name"] == "ack-sent")) {
        task_events.emplace_back(thread, e["args"]["detail"].get<std::string>());
      }
    } else if (ph == "s" || ph == "f") {
      ASSERT_TRUE(e["id"].is_number_unsigned()) << e;
      const uint64_t id = e["id"].get<uint64_t>();
      auto& ends = ph == "s" ? flow_starts : flow_ends;
      EXPECT_TRUE(ends.emplace(id, std::make_pair(thread, ts)).second) << "id reused: " << e;
      if (e["cat"] == "barrier") {
        barrier_flow_checkpoint[id] = e["args"]["checkpoint"].get<int64_t>();
      }
      if (ph == "f") {
        EXPECT_EQ(e["bp"], "e");
      }
    } else if (ph == "b" || ph == "e") {
      EXPECT_EQ(e["cat"], "checkpoint");
      const int64_t id = e["id"].get<int64_t>();
      if (ph == "b") {
        EXPECT_TRUE(span_begins.emplace(id, std::make_tuple(thread.first, ts)).second) << e;
      } else {
        const std::string outcome = e["args"]["outcome"].get<std::string>();
        EXPECT_TRUE(span_ends.emplace(id, std::make_tuple(thread.first, ts, outcome)).second) << e;
      }
    } else {
      ADD_FAILURE() << "unexpected phase: " << e;
    }
  }
  EXPECT_EQ(slices, records.size()) << "one slice per trace record";

  // One named thread per task, on the process of the TaskManager that runs it; every thread
  // an event uses is named.
  for (const engine::TaskSpec& task : plan.tasks) {
    EXPECT_EQ(thread_name_count[task.name], 1) << task.name;
    bool on_its_node = false;
    for (const auto& [thread, name] : thread_names) {
      if (name == task.name) on_its_node = thread.first == static_cast<int64_t>(task.node) + 1;
    }
    EXPECT_TRUE(on_its_node) << task.name;
  }
  for (const Thread& t : used) EXPECT_TRUE(thread_names.count(t)) << t.first << "/" << t.second;
  // Task events sit on their task's thread.
  ASSERT_FALSE(task_events.empty());
  for (const auto& [thread, task] : task_events) EXPECT_EQ(thread_names[thread], task);

  // Every flow start has its finish, and the other way round, never before it.
  ASSERT_FALSE(flow_starts.empty());
  EXPECT_EQ(flow_starts.size(), flow_ends.size());
  for (const auto& [id, start] : flow_starts) {
    auto end = flow_ends.find(id);
    ASSERT_NE(end, flow_ends.end()) << "flow " << id << " never finishes";
    EXPECT_LE(start.second, end->second.second) << "flow " << id;
  }
  for (const auto& [id, end] : flow_ends) EXPECT_TRUE(flow_starts.count(id)) << id;

  // Barrier flows: for every completed checkpoint, one arrow into every input channel of every
  // consuming task, from the thread of the producer feeding that channel.
  std::multiset<std::tuple<std::string, std::string, int64_t>> barrier_arrows;
  for (const auto& [id, checkpoint] : barrier_flow_checkpoint) {
    barrier_arrows.insert(
        {thread_names[flow_starts[id].first], thread_names[flow_ends[id].first], checkpoint});
  }
  for (int64_t checkpoint : completed) {
    for (const engine::TaskSpec& consumer : plan.tasks) {
      std::multiset<std::string> expected;
      for (uint32_t producer : plan.InputsOf(consumer.index)) {
        expected.insert(plan.tasks[producer].name);
      }
      for (const std::string& producer : expected) {
        EXPECT_EQ(barrier_arrows.count({producer, consumer.name, checkpoint}),
                  expected.count(producer))
            << "barrier " << checkpoint << " from " << producer << " to " << consumer.name;
      }
    }
  }

  // A span per completed checkpoint on the JobManager's process, ending "completed".
  const int64_t job_manager_pid = static_cast<int64_t>(jw.job_manager_node()) + 1;
  EXPECT_EQ(span_begins.size(), span_ends.size());
  for (int64_t checkpoint : completed) {
    ASSERT_TRUE(span_begins.count(checkpoint)) << checkpoint;
    ASSERT_TRUE(span_ends.count(checkpoint)) << checkpoint;
    EXPECT_EQ(std::get<0>(span_begins[checkpoint]), job_manager_pid);
    EXPECT_EQ(std::get<0>(span_ends[checkpoint]), job_manager_pid);
    EXPECT_LE(std::get<1>(span_begins[checkpoint]), std::get<1>(span_ends[checkpoint]));
    EXPECT_EQ(std::get<2>(span_ends[checkpoint]), "completed");
  }
}

}  // namespace
}  // namespace faultline
