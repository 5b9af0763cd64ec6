#include "simulator/trace.h"

#include <algorithm>
#include <bit>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "base/assert.h"
#include "base/hash.h"
#include "engine/exec/events.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace faultline::sim {

static_assert(std::endian::native == std::endian::little,
              "the trace hash layout assumes a little-endian machine");

uint64_t HashTraceFields(Time time, TraceKind kind, uint32_t node, uint32_t incarnation,
                         const std::array<int64_t, 4>& args, std::string_view detail,
                         uint64_t previous) {
  // Fixed little-endian layout of every field, then the detail bytes; seeded by the previous
  // hash so the result is a rolling hash over the whole trace.
  struct Fixed {
    int64_t time;
    int64_t args[4];
    uint32_t node;
    uint32_t incarnation;
    uint32_t kind;
    uint32_t detail_size;
  } fixed;
  static_assert(sizeof(Fixed) == 56);
  fixed.time = time.nanos();
  std::memcpy(fixed.args, args.data(), sizeof fixed.args);
  fixed.node = node;
  fixed.incarnation = incarnation;
  fixed.kind = static_cast<uint32_t>(kind);
  fixed.detail_size = static_cast<uint32_t>(detail.size());
  // Inlined XXH3 with a constant length: the compiler keeps only the 17-128 byte path.
  const uint64_t h = XXH3_64bits_withSeed(&fixed, sizeof fixed, previous);
  return detail.empty() ? h : XXH3_64bits_withSeed(detail.data(), detail.size(), h);
}

uint64_t HashTraceRecord(const TraceRecord& record, uint64_t previous) {
  return HashTraceFields(record.time, record.kind, record.node, record.incarnation, record.args,
                         record.detail, previous);
}

std::string_view ServiceName(int64_t service) {
  switch (static_cast<Service>(service)) {
    case Service::kBlobStore:
      return "blob";
    case Service::kHaStore:
      return "ha";
    case Service::kSourceLog:
      return "source-log";
    case Service::kOutputStore:
      return "output";
  }
  return "?";
}

std::string_view ServiceOpName(int64_t op) {
  switch (static_cast<ServiceOp>(op)) {
    case ServiceOp::kPut:
      return "put";
    case ServiceOp::kGet:
      return "get";
    case ServiceOp::kDelete:
      return "delete";
    case ServiceOp::kList:
      return "list";
    case ServiceOp::kRead:
      return "read";
    case ServiceOp::kCompareAndSet:
      return "cas";
    case ServiceOp::kLogRead:
      return "read";
    case ServiceOp::kEndOffset:
      return "end-offset";
    case ServiceOp::kFence:
      return "fence";
    case ServiceOp::kTxnWrite:
      return "txn-write";
    case ServiceOp::kPreCommit:
      return "pre-commit";
    case ServiceOp::kCommit:
      return "commit";
    case ServiceOp::kAbort:
      return "abort";
    case ServiceOp::kAppend:
      return "append";
    case ServiceOp::kUpsert:
      return "upsert";
    case ServiceOp::kLookup:
      return "lookup";
  }
  return "?";
}

std::string FormatTraceRecord(const TraceRecord& record) {
  const TraceKindInfo& info = InfoOf(record.kind);
  std::string out = record.time.ToString();
  char buf[64];
  if (record.node == 0xffffffffu) {
    out += " world";
  } else {
    std::snprintf(buf, sizeof buf, " node=%u#%u", record.node, record.incarnation);
    out += buf;
  }
  out += ' ';
  out += info.name;
  const engine::EngineEventInfo* event =
      record.kind == TraceKind::kEngine ? engine::FindEngineEvent(record.args[0]) : nullptr;
  for (size_t i = 0; i < 4; ++i) {
    // An engine event's arguments by the names its table row gives them.
    std::string_view arg_name = info.args[i];
    if (event != nullptr && i > 0) arg_name = engine::EventArgName(event->args[i - 1]);
    if (arg_name.empty()) continue;
    out += ' ';
    out += arg_name;
    out += '=';
    const int64_t v = record.args[i];
    if (record.kind == TraceKind::kEngine && i == 0) {
      out += engine::EngineEventName(v);
    } else if (info.args[i] == "service") {
      out += ServiceName(v);
    } else if (info.args[i] == "op" && record.kind != TraceKind::kDiskError) {
      out += ServiceOpName(v);
    } else {
      std::snprintf(buf, sizeof buf, "%" PRId64, v);
      out += buf;
    }
  }
  if (!record.detail.empty()) {
    out += ' ';
    out += info.detail.empty() ? "detail" : info.detail;
    out += "=\"";
    out += record.detail;
    out += '"';
  }
  return out;
}

void TraceRecorder::Record(TraceRecord record) {
  FL_ASSERT(!notifying_, "a trace observer must not record into the trace");
  hash_ = HashTraceRecord(record, hash_);
  ++count_;
  ++counts_[static_cast<size_t>(record.kind)];
  Keep(std::move(record));
}

void TraceRecorder::Keep(TraceRecord record) {
  if (!observers_.empty()) {
    notifying_ = true;
    for (TraceObserver* observer : observers_) observer->OnRecord(record);
    notifying_ = false;
  }
  if (options_.keep_records) {
    if (records_.size() < options_.kept_records_max) {
      records_.push_back(std::move(record));
    } else {
      truncated_ = true;
    }
  }
}

void TraceRecorder::RemoveObserver(TraceObserver* observer) {
  observers_.erase(std::remove(observers_.begin(), observers_.end(), observer), observers_.end());
}

uint64_t TraceRecorder::HashAll(const std::vector<TraceRecord>& records) {
  uint64_t h = 0;
  for (const TraceRecord& r : records) h = HashTraceRecord(r, h);
  return h;
}

std::string FormatTrace(const std::vector<TraceRecord>& records) {
  std::string out;
  for (const TraceRecord& r : records) {
    out += FormatTraceRecord(r);
    out += '\n';
  }
  return out;
}

std::optional<EngineEventView> EngineEventOf(const TraceRecord& record) {
  if (record.kind != TraceKind::kEngine) return std::nullopt;
  const engine::EngineEventInfo* info = engine::FindEngineEvent(record.args[0]);
  if (info == nullptr) return std::nullopt;
  return EngineEventView{info->event, engine::ReadEventArgs(info->event, record.args[1],
                                                            record.args[2], record.args[3])};
}

bool IsEngineEvent(const TraceRecord& record, engine::EngineEvent event) {
  return record.kind == TraceKind::kEngine && record.args[0] == static_cast<int64_t>(event);
}

}  // namespace faultline::sim
