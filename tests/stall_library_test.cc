// The library's stall regressions (issue 11), asserted from the trace: the situation each
// scenario covers happened, and the job went on to finish. That each passes, judged (LIVE
// fails a run whose committed output stops growing while input is left), is
// library_scenarios_test's part.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/exec/events.h"
#include "simulator/trace.h"
#include "tests/support/library_run.h"

namespace faultline {
namespace {

using engine::EngineEvent;

// Data channels as the trace shows them: who connected where and when, when each came up; and
// every barrier a task emitted.
class ChannelLog : public sim::TraceObserver {
 public:
  struct Channel {
    uint32_t from = 0;  // node
    uint32_t to = 0;    // node
    uint32_t port = 0;
    Time connected;
    std::optional<Time> established;
    int64_t credits = 0;
    int64_t in_flight = 0;  // sent, not yet delivered
  };
  struct Emitted {
    std::string task;
    uint32_t node = 0;
    uint64_t checkpoint = 0;
    Time at;
    // The most buffers in flight, beyond its credits, on a data channel from the task's node
    // when it emitted the barrier (events: the transport bounds them).
    int64_t events_in_flight = 0;
  };

  void OnRecord(const sim::TraceRecord& r) override {
    if (r.kind == sim::TraceKind::kConnect) {
      channels_[r.args[0]] = Channel{r.node,
                                     static_cast<uint32_t>(r.args[1]),
                                     static_cast<uint32_t>(r.args[2]),
                                     r.time,
                                     std::nullopt,
                                     r.args[3],
                                     0};
      return;
    }
    auto channel = channels_.find(r.args[0]);
    if (r.kind == sim::TraceKind::kEstablished && channel != channels_.end()) {
      channel->second.established = r.time;
    } else if (r.kind == sim::TraceKind::kSend && channel != channels_.end()) {
      ++channel->second.in_flight;
    } else if (r.kind == sim::TraceKind::kDeliver && channel != channels_.end()) {
      --channel->second.in_flight;
    } else if (r.kind == sim::TraceKind::kChannelFailed && channel != channels_.end()) {
      channel->second.in_flight = 0;  // what was in flight is dropped
    } else if (std::optional<sim::EngineEventView> e = sim::EngineEventOf(r)) {
      if (e->event != EngineEvent::kBarrierEmitted) return;
      int64_t events = 0;
      for (const auto& [id, c] : channels_) {
        if (c.from == r.node && c.port >= 100) events = std::max(events, c.in_flight - c.credits);
      }
      emitted_.push_back({r.detail, r.node, static_cast<uint64_t>(e->args.checkpoint.value_or(0)),
                          r.time, events});
    }
  }
  const std::map<int64_t, Channel>& channels() const { return channels_; }
  const std::vector<Emitted>& emitted() const { return emitted_; }

 private:
  std::map<int64_t, Channel> channels_;
  std::vector<Emitted> emitted_;
};

// The barriers emitted while an output channel of the emitting task was connecting: the
// channel was opened from the task's node to a consumer's data port before the barrier and
// came up after it (or never).
std::vector<std::string> BarriersAheadOfTheirChannel(const ChannelLog& log,
                                                     const engine::ExecutionPlan& plan) {
  std::vector<std::string> found;
  for (const ChannelLog::Emitted& b : log.emitted()) {
    for (uint32_t t = 0; t < plan.tasks.size(); ++t) {
      if (plan.tasks[t].name != b.task) continue;
      for (uint32_t consumer : plan.OutputsOf(t)) {
        for (const auto& [id, c] : log.channels()) {
          if (c.from != b.node || c.to != plan.tasks[consumer].node ||
              c.port != plan.tasks[consumer].data_port || c.connected > b.at ||
              (c.established && *c.established <= b.at)) {
            continue;
          }
          found.push_back(b.task + " emitted barrier " + std::to_string(b.checkpoint) +
                          " before its channel to " + plan.tasks[consumer].name + " came up");
        }
      }
    }
  }
  return found;
}

TEST(StallLibraryTest, AnUnalignedBarrierAheadOfItsChannelCostsNoCredit) {
  ChannelLog log;
  std::unique_ptr<testing_support::LibraryRun> run = testing_support::RunLibrary(
      FAULTLINE_SCENARIO_LIBRARY_DIR, "unaligned_barrier_before_channel_up.textproto",
      [&log](sim::JobWorld& jw) { jw.world().trace().AddObserver(&log); });
  run->jw->world().trace().RemoveObserver(&log);
  const std::vector<std::string> ahead = BarriersAheadOfTheirChannel(log, run->jw->setup().plan);
  ASSERT_FALSE(ahead.empty()) << "no barrier waited for its channel to come up";
  std::cout << ahead.size() << " barriers waited for their channel, e.g. " << ahead.front() << "\n";
  // With one credit per channel, a barrier sent on that credit (none comes back for it) would
  // have stalled the channel for good: the job finishes and commits every record.
  EXPECT_EQ(run->status, engine::JobStatus::kFinished);
  EXPECT_EQ(run->View().committed.size(), 6000u);
}

TEST(StallLibraryTest, UnalignedBarriersHeldBackByTheEventBoundCostNoCredit) {
  ChannelLog log;
  std::unique_ptr<testing_support::LibraryRun> run = testing_support::RunLibrary(
      FAULTLINE_SCENARIO_LIBRARY_DIR, "unaligned_barriers_behind_clog.textproto",
      [&log](sim::JobWorld& jw) { jw.world().trace().AddObserver(&log); });
  run->jw->world().trace().RemoveObserver(&log);
  // A barrier emitted while a channel of its node held the bound of events: the barrier (or a
  // later one) waited in the output queue for the events to drain.
  const auto held = std::find_if(log.emitted().begin(), log.emitted().end(), [](const auto& b) {
    return b.events_in_flight >= static_cast<int64_t>(runtime::Transport::kEventsInFlightMax);
  });
  ASSERT_NE(held, log.emitted().end()) << "no channel reached the bound of events in flight";
  std::cout << held->task << " emitted barrier " << held->checkpoint << " with "
            << held->events_in_flight << " events in flight on a channel of its node\n";
  EXPECT_EQ(run->status, engine::JobStatus::kFinished);
  EXPECT_EQ(run->View().committed.size(), 6000u);
}

}  // namespace
}  // namespace faultline
