// The checkers' recorder of what each task did, in order (ORACLES.md, "Order"): per (task,
// attempt), the records it took into its chain with their input channel, the ids a source task
// emitted, where its snapshots fell in those sequences, and the checkpoint it started from.
//
// Install it before the job is created (EngineConfig::observer = &log; JobWorld::Create), and
// keep it alive while the world runs. It only records: it draws no random numbers and changes
// nothing, so the trace hash is the same with or without it. Not thread-safe; the simulation
// is one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "base/time.h"
#include "engine/api/record.h"
#include "engine/exec/observer.h"

namespace faultline::checkers {

struct LoggedRecord {
  uint32_t input = 0;  // the task's input channel (index into ExecutionPlan::InputsOf)
  engine::Record record;
};

// Where a snapshot fell: the records processed and ids emitted before it are in it.
struct LoggedSnapshot {
  uint64_t checkpoint_id = 0;
  size_t processed = 0;
  size_t emitted = 0;
  std::optional<Time> time;
};

struct AttemptLog {
  uint32_t task = 0;
  uint64_t attempt = 0;
  std::optional<uint64_t> start_checkpoint;  // unset: events came without OnStart
  std::optional<Time> start_time;
  std::vector<LoggedRecord> processed;
  std::vector<engine::RecordId> emitted;
  std::vector<LoggedSnapshot> snapshots;
  // When each id of `emitted` was emitted; empty when the log has no clock.
  std::vector<Time> emitted_at;

  const LoggedSnapshot* SnapshotOf(uint64_t checkpoint_id) const;
};

class OrderLog final : public engine::ProcessingObserver {
 public:
  struct Options {
    // Reads the simulated time for snapshot and start evidence (World::now records nothing).
    // May be empty: the log then carries no times.
    std::function<Time()> now;
    // Bound on logged records and ids; past it the log stops and reports overflowed().
    size_t records_max = size_t{1} << 24;
  };

  explicit OrderLog(Options options) : options_(std::move(options)) {}
  OrderLog() : OrderLog(Options{}) {}

  void OnSourceEmit(uint32_t task, uint64_t attempt, const engine::RecordId& id) override;
  void OnProcess(uint32_t task, uint64_t attempt, uint32_t input,
                 const engine::Record& record) override;
  void OnSnapshot(uint32_t task, uint64_t attempt, uint64_t checkpoint_id) override;
  void OnStart(uint32_t task, uint64_t attempt, uint64_t checkpoint_id) override;

  // Null when the task never reported anything in that attempt.
  const AttemptLog* Find(uint32_t task, uint64_t attempt) const;
  // Every attempt of `task`, oldest first (attempt numbers rise across restarts and
  // JobManager incarnations).
  std::vector<const AttemptLog*> AttemptsOf(uint32_t task) const;
  // True once records_max was reached: the log is incomplete and must not be used.
  bool overflowed() const { return overflowed_; }
  // How many (task, attempt) logs it holds.
  size_t attempts() const { return logs_.size(); }
  // True when a task reported a second start in one attempt (the later one reset its log).
  bool restarted_within_attempt() const { return restarted_within_attempt_; }

 private:
  AttemptLog& Log(uint32_t task, uint64_t attempt);
  bool Admit();
  std::optional<Time> Now() const;

  Options options_;
  std::map<std::pair<uint32_t, uint64_t>, AttemptLog> logs_;
  size_t records_ = 0;
  bool overflowed_ = false;
  bool restarted_within_attempt_ = false;
};

}  // namespace faultline::checkers
