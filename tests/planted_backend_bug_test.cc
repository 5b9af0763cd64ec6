// The reference interpreter shares no code with the engine's state backends, so a bug in a
// backend cannot cancel itself out: a test plants one (through EngineConfig::state_backend, the
// seam other backends use) and EO-OUT, which compares the committed values with the reference,
// disagrees. The same runs with the real heap backend pass.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "checkers/eo_out.h"
#include "checkers/order_log.h"
#include "checkers/run_view.h"
#include "engine/state/state_backend.h"
#include "faults/crash_when.h"
#include "simulator/job_world.h"
#include "tests/support/job_fixtures.h"

namespace faultline {
namespace {

using engine::Bytes;
using engine::KeyedStateBackend;
using engine::KeyGroup;
using engine::StateId;

enum class Bug { kNone, kLostUpdate, kRestoreDropsAKeyGroup };

// The heap backend with one planted bug.
class Buggy final : public KeyedStateBackend {
 public:
  Buggy(engine::KeyGroupRange groups, Bug bug)
      : inner_(engine::NewHeapStateBackend(groups)), bug_(bug) {}

  engine::KeyGroupRange key_groups() const override { return inner_->key_groups(); }
  Result<StateId> Register(std::string_view name, engine::StateKind kind) override {
    return inner_->Register(name, kind);
  }
  std::optional<Bytes> Get(StateId state, KeyGroup group, std::string_view key,
                           std::string_view user_key) const override {
    return inner_->Get(state, group, key, user_key);
  }
  void Put(StateId state, KeyGroup group, std::string_view key, std::string_view user_key,
           Bytes value) override {
    // Lost update: every 500th write is silently dropped.
    if (bug_ == Bug::kLostUpdate && ++puts_ % 500 == 0) return;
    inner_->Put(state, group, key, user_key, std::move(value));
  }
  void Delete(StateId state, KeyGroup group, std::string_view key,
              std::string_view user_key) override {
    inner_->Delete(state, group, key, user_key);
  }
  void ForEach(StateId state, KeyGroup group, std::string_view key,
               EntryVisitor visit) const override {
    inner_->ForEach(state, group, key, std::move(visit));
  }
  void ForEachEntry(AllEntriesVisitor visit) const override {
    inner_->ForEachEntry(std::move(visit));
  }
  std::unique_ptr<engine::StateSnapshot> Capture() const override { return inner_->Capture(); }
  Status Restore(const std::vector<engine::RestoreSource>& sources) override {
    FL_RETURN_IF_ERROR(inner_->Restore(sources));
    if (bug_ == Bug::kRestoreDropsAKeyGroup) {
      // Restore forgets the first key group of the range (an off-by-one in a range scan).
      const KeyGroup first = inner_->key_groups().first;
      std::vector<std::pair<std::string, std::string>> doomed;  // (key, state)
      inner_->ForEachEntry([&](std::string_view state, KeyGroup group, std::string_view key,
                               std::string_view, std::span<const uint8_t>) {
        if (group == first) doomed.emplace_back(std::string(key), std::string(state));
      });
      for (const auto& [key, state] : doomed) {
        Result<StateId> id = inner_->Register(state, engine::StateKind::kValue);
        if (id.ok()) inner_->Delete(*id, first, key, "");
      }
    }
    return Status::Ok();
  }
  uint64_t Digest() const override { return inner_->Digest(); }
  uint64_t entry_count() const override { return inner_->entry_count(); }

 private:
  std::unique_ptr<KeyedStateBackend> inner_;
  Bug bug_;
  uint64_t puts_ = 0;
};

// The example job; with `crash`, a TaskManager dies as it acknowledges checkpoint 3. Returns
// EO-OUT's verdict.
checkers::Verdict RunJob(Bug bug, bool crash) {
  engine::EngineConfig config;
  config.checkpoints.interval = Duration::Millis(500);
  config.state_backend = [bug](const engine::StateBackendSetup& setup)
      -> Result<std::unique_ptr<engine::KeyedStateBackend>> {
    return std::unique_ptr<engine::KeyedStateBackend>(
        std::make_unique<Buggy>(setup.key_groups, bug));
  };
  sim::JobWorld* world = nullptr;
  checkers::OrderLog order(checkers::OrderLog::Options{
      .now = [&world] { return world == nullptr ? Time::Zero() : world->world().now(); }});
  config.observer = &order;
  auto jw =
      sim::JobWorld::Create(testing_support::KeyedJob({.name = "planted"}), config, {}).value();
  world = jw.get();
  testing_support::FillSource(*jw, 4, 4000);
  faults::CrashWhen crash_at(
      jw.get(),
      [crash](const sim::TraceRecord& r) {
        return crash && testing_support::IsEngineEvent(r, engine::EngineEvent::kAckSent, 3);
      },
      /*crash_job_manager=*/false);
  jw->world().trace().AddObserver(&crash_at);
  struct Dump : sim::TraceObserver {
    void OnRecord(const sim::TraceRecord& r) override {
      if ((r.kind == sim::TraceKind::kEngine && r.node == 0) ||
          r.kind == sim::TraceKind::kNodeCrash)
        std::fprintf(stderr, "%s\n", sim::FormatTraceRecord(r).c_str());
    }
  } dump;
  if (std::getenv("DUMP")) jw->world().trace().AddObserver(&dump);
  jw->Start();
  EXPECT_EQ(jw->RunUntilDone(Time::Zero() + Duration::Seconds(60)), engine::JobStatus::kFinished);
  jw->world().trace().RemoveObserver(&crash_at);
  EXPECT_EQ(crash_at.fired(), crash);
  return checkers::CheckExactlyOnceOutput(checkers::ViewOf(*jw, &order).value());
}

TEST(PlantedBackendBugTest, TheReferenceDisagreesWithALostUpdate) {
  const checkers::Verdict buggy = RunJob(Bug::kLostUpdate, /*crash=*/false);
  EXPECT_TRUE(buggy.violated()) << "a dropped write went unnoticed";
  std::printf("%s\n", buggy.ToString().c_str());
  EXPECT_TRUE(RunJob(Bug::kNone, false).passed());
}

TEST(PlantedBackendBugTest, TheReferenceDisagreesWithARestoreThatDropsAKeyGroup) {
  const checkers::Verdict buggy = RunJob(Bug::kRestoreDropsAKeyGroup, /*crash=*/true);
  EXPECT_TRUE(buggy.violated()) << "a key group lost on restore went unnoticed";
  std::printf("%s\n", buggy.ToString().c_str());
  // Without a restore the bug is dormant; with the real backend the crash is harmless.
  EXPECT_TRUE(RunJob(Bug::kRestoreDropsAKeyGroup, false).passed());
  const checkers::Verdict real = RunJob(Bug::kNone, true);
  EXPECT_TRUE(real.passed()) << real.ToString();
}

}  // namespace
}  // namespace faultline
