// The demo world's trace exports as a Chrome Trace Event file: one track per node, every
// delivered message an arrow from its send to its receipt.
#include "examples/demo_world.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "simulator/chrome_trace.h"

namespace faultline::demo {
namespace {

TEST(ChromeTraceTest, DemoTraceParsesWithOneTrackPerNodeAndMatchedFlows) {
  DemoWorld demo(
      DemoOptions{.seed = 17, .nodes = 3, .duration = Duration::Seconds(1), .keep_trace = true});
  demo.Run();
  std::vector<std::string> names;
  for (uint32_t n = 0; n < demo.world().node_count(); ++n) {
    names.push_back(demo.world().NodeName(n));
  }
  const std::string text = sim::ToChromeTraceJson(demo.world().trace().records(), names);
  const nlohmann::json json = nlohmann::json::parse(text);  // throws if invalid
  ASSERT_TRUE(json.contains("traceEvents"));
  std::set<int64_t> named_tracks;
  std::set<int64_t> used_tracks;
  std::map<uint64_t, int> flow_starts;
  std::map<uint64_t, int> flow_ends;
  size_t slices = 0;
  for (const auto& e : json["traceEvents"]) {
    const std::string ph = e["ph"];
    if (ph == "M" && e["name"] == "process_name") named_tracks.insert(e["pid"].get<int64_t>());
    if (ph == "X") {
      ++slices;
      used_tracks.insert(e["pid"].get<int64_t>());
      ASSERT_TRUE(e.contains("ts") && e.contains("dur") && e.contains("args"));
    }
    if (ph == "s") ++flow_starts[e["id"].get<uint64_t>()];
    if (ph == "f") {
      ++flow_ends[e["id"].get<uint64_t>()];
      EXPECT_EQ(e["bp"], "e");
    }
  }
  EXPECT_EQ(slices, demo.world().trace().records().size());
  EXPECT_EQ(named_tracks.size(), names.size() + 1);  // + the world track
  for (int64_t pid : used_tracks) EXPECT_TRUE(named_tracks.count(pid)) << pid;
  EXPECT_EQ(used_tracks.size(), names.size() + 1);
  ASSERT_FALSE(flow_ends.empty());
  for (const auto& [id, n] : flow_ends) {
    EXPECT_EQ(n, 1);
    EXPECT_EQ(flow_starts[id], 1) << "every arrow ends where one started";
  }
  EXPECT_EQ(flow_ends.size(), demo.world().network().stats().delivered);
}

}  // namespace
}  // namespace faultline::demo
