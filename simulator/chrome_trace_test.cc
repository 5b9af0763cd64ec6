#include "simulator/chrome_trace.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/exec/events.h"

namespace faultline::sim {
namespace {

// Hand-made records: a two-task job (a#0 -> b#0) with a JobManager on node 0.
TraceRecord Engine(int64_t ms, uint32_t node, engine::EngineEvent e, int64_t a, int64_t b,
                   std::string detail) {
  return TraceRecord{Time::Zero() + Duration::Millis(ms),
                     TraceKind::kEngine,
                     node,
                     0,
                     {engine::Ev(e), a, b, 0},
                     std::move(detail)};
}

TEST(ChromeTraceTest, TaskThreadsBarrierFlowsAndCheckpointSpans) {
  using engine::EngineEvent;
  const std::vector<TraceRecord> records = {
      Engine(1, 0, EngineEvent::kTriggered, 1, 0, ""),
      Engine(2, 1, EngineEvent::kBarrierEmitted, 1, 0, "a#0"),
      // A message sent and never delivered gets no arrow.
      TraceRecord{Time::Zero() + Duration::Millis(2), TraceKind::kSend, 1, 0, {7, 2, 64, 1}, ""},
      Engine(3, 2, EngineEvent::kBarrierReceived, 1, 0, "b#0"),
      Engine(3, 2, EngineEvent::kBarrierReceived, 1, 5, "b#0"),  // no such input: no arrow
      Engine(4, 0, EngineEvent::kPointerMoved, 1, 0, "blob"),
      Engine(5, 0, EngineEvent::kTriggered, 2, 0, ""),
      Engine(6, 0, EngineEvent::kCheckpointAborted, 2, 0, "timeout"),
      Engine(7, 0, EngineEvent::kTriggered, 3, 0, ""),
      TraceRecord{Time::Zero() + Duration::Millis(8), TraceKind::kNodeCrash, 0, 0, {}, "crash"},
      Engine(9, 0, EngineEvent::kTriggered, 4, 1, ""),
  };
  const std::string text =
      ToChromeTraceJson(records, {"jobmanager", "tm-1", "tm-2"}, {{"a#0", {}}, {"b#0", {"a#0"}}});
  const nlohmann::json json = nlohmann::json::parse(text);
  std::map<std::pair<int64_t, int64_t>, std::string> threads;
  std::vector<nlohmann::json> flows;
  std::map<int64_t, std::string> outcomes;
  std::set<int64_t> begun;
  for (const auto& e : json["traceEvents"]) {
    const std::string ph = e["ph"].get<std::string>();
    const auto thread = std::make_pair(e["pid"].get<int64_t>(), e["tid"].get<int64_t>());
    if (ph == "M" && e["name"] == "thread_name") threads[thread] = e["args"]["name"];
    if (ph == "s" || ph == "f") flows.push_back(e);
    if (ph == "b") begun.insert(e["id"].get<int64_t>());
    if (ph == "e") outcomes[e["id"].get<int64_t>()] = e["args"]["outcome"];
    if (ph == "X" && e["cat"] == "engine" && e["args"].contains("detail") &&
        e["name"] != "checkpoint-completed" && e["name"] != "checkpoint-aborted") {
      EXPECT_EQ(threads[thread], e["args"]["detail"]) << e;  // metadata comes first
    }
  }
  EXPECT_EQ(threads[std::make_pair(int64_t{2}, int64_t{1})], "a#0");
  EXPECT_EQ(threads[std::make_pair(int64_t{3}, int64_t{2})], "b#0");
  EXPECT_EQ(threads[std::make_pair(int64_t{1}, int64_t{0})], "node");
  ASSERT_EQ(flows.size(), 2u) << "one barrier arrow, no message arrow";
  EXPECT_EQ(flows[0]["ph"], "s");
  EXPECT_EQ(flows[0]["cat"], "barrier");
  EXPECT_EQ(flows[0]["pid"], 2);
  EXPECT_EQ(flows[0]["tid"], 1);
  EXPECT_EQ(flows[1]["ph"], "f");
  EXPECT_EQ(flows[1]["pid"], 3);
  EXPECT_EQ(flows[1]["tid"], 2);
  EXPECT_EQ(flows[0]["id"], flows[1]["id"]);
  EXPECT_EQ(begun, (std::set<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(outcomes[1], "completed");
  EXPECT_EQ(outcomes[2], "aborted: timeout");
  EXPECT_EQ(outcomes[3], "the JobManager crashed");
  EXPECT_EQ(outcomes[4], "unfinished");
}

TEST(ChromeTraceTest, ACancellationMarkerIsAnArrowFromItsSenderToItsReceiver) {
  using engine::EngineEvent;
  const std::vector<TraceRecord> records = {
      Engine(1, 1, EngineEvent::kCheckpointDeclined, 3, 1, "a#0"),
      Engine(1, 1, EngineEvent::kCancelMarkerSent, 3, 0, "a#0"),
      Engine(2, 2, EngineEvent::kCancelMarkerReceived, 3, 0, "b#0"),
      Engine(2, 2, EngineEvent::kCheckpointDeclined, 3, 2, "b#0"),
  };
  const nlohmann::json json = nlohmann::json::parse(
      ToChromeTraceJson(records, {"jobmanager", "tm-1", "tm-2"}, {{"a#0", {}}, {"b#0", {"a#0"}}}));
  std::vector<nlohmann::json> flows;
  for (const auto& e : json["traceEvents"]) {
    if (e["ph"] == "s" || e["ph"] == "f") flows.push_back(e);
  }
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[0]["name"], "cancel-marker");
  EXPECT_EQ(flows[0]["pid"], 2);
  EXPECT_EQ(flows[1]["name"], "cancel-marker");
  EXPECT_EQ(flows[1]["pid"], 3);
  EXPECT_EQ(flows[1]["args"]["checkpoint"], 3);
  EXPECT_EQ(flows[0]["id"], flows[1]["id"]);
}

TEST(ChromeTraceTest, EscapesStrings) {
  std::string out;
  AppendJsonString(out, "a\"b\\c\nd\x01");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\u0001\"");
  EXPECT_TRUE(nlohmann::json::accept(out));
}

}  // namespace
}  // namespace faultline::sim
