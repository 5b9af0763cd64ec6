// The trace: every observable event of a run as a typed record, and a rolling 64-bit hash over
// all of them. Same seed + scenario + build => the same records and the same hash.
//
// A record has a fixed shape (time, kind, node, incarnation, four integer arguments, a detail
// string); the kind's schema (trace_kinds.h) names the arguments, so a viewer or a checker can
// read any record without knowing the component that wrote it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/assert.h"
#include "base/time.h"
#include "engine/exec/events.h"
#include "simulator/trace_kinds.h"

namespace faultline::sim {

struct TraceRecord {
  Time time;
  TraceKind kind = TraceKind::kNote;
  uint32_t node = 0xffffffff;  // runtime::kNoNode for world-level records
  uint32_t incarnation = 0;
  std::array<int64_t, 4> args{};
  std::string detail;

  bool operator==(const TraceRecord&) const = default;
};

// An engine event record read by name: which event, and its arguments as engine/exec/events.h
// names them. nullopt for a record of another kind or an unknown event.
struct EngineEventView {
  engine::EngineEvent event;
  engine::EventArgs args;
};
std::optional<EngineEventView> EngineEventOf(const TraceRecord& record);
// True for an engine event record of `event`.
bool IsEngineEvent(const TraceRecord& record, engine::EngineEvent event);

// The hash of `record` chained onto `previous`: covers every field.
uint64_t HashTraceRecord(const TraceRecord& record, uint64_t previous);
uint64_t HashTraceFields(Time time, TraceKind kind, uint32_t node, uint32_t incarnation,
                         const std::array<int64_t, 4>& args, std::string_view detail,
                         uint64_t previous);

// "12.000150000s node=2#1 deliver channel=7 from=1 bytes=512 seq=3".
std::string FormatTraceRecord(const TraceRecord& record);

// Sees every record as it is appended (checkers, fault triggers, progress). An observer must not
// record into the trace from OnRecord.
class TraceObserver {
 public:
  virtual ~TraceObserver() = default;
  virtual void OnRecord(const TraceRecord& record) = 0;
};

class TraceRecorder {
 public:
  struct Options {
    // Keep every record in memory (for export and viewers). Off: only hash and count.
    bool keep_records = true;
    // Bound on kept records; past it recording stops keeping (the hash still covers all).
    size_t kept_records_max = 20'000'000;
  };

  TraceRecorder() : TraceRecorder(Options{}) {}
  explicit TraceRecorder(Options options) : options_(options) {}

  void Record(Time time, TraceKind kind, uint32_t node, uint32_t incarnation,
              const std::array<int64_t, 4>& args = {}, std::string_view detail = {}) {
    FL_ASSERT(!notifying_, "a trace observer must not record into the trace");
    hash_ = HashTraceFields(time, kind, node, incarnation, args, detail, hash_);
    ++count_;
    ++counts_[static_cast<size_t>(kind)];
    // The hot path ends here when nobody needs the record itself.
    if (observers_.empty() && !options_.keep_records) return;
    Keep(TraceRecord{time, kind, node, incarnation, args, std::string(detail)});
  }
  void Record(TraceRecord record);

  uint64_t hash() const { return hash_; }
  uint64_t count() const { return count_; }
  uint64_t CountOf(TraceKind kind) const { return counts_[static_cast<size_t>(kind)]; }
  const std::vector<TraceRecord>& records() const { return records_; }
  bool truncated() const { return truncated_; }

  void AddObserver(TraceObserver* observer) { observers_.push_back(observer); }
  void RemoveObserver(TraceObserver* observer);

  // Recomputes the rolling hash of a list of records (for tests and replays).
  static uint64_t HashAll(const std::vector<TraceRecord>& records);

 private:
  void Keep(TraceRecord record);  // for observers and the kept list

  Options options_;
  uint64_t hash_ = 0;
  uint64_t count_ = 0;
  std::array<uint64_t, kTraceKindCount> counts_{};
  std::vector<TraceRecord> records_;
  std::vector<TraceObserver*> observers_;
  bool truncated_ = false;
  bool notifying_ = false;
};

// Writes one record per line.
std::string FormatTrace(const std::vector<TraceRecord>& records);

}  // namespace faultline::sim
