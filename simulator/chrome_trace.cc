#include "simulator/chrome_trace.h"

#include <cinttypes>
#include <cstdio>
#include <map>
#include <utility>

namespace faultline::sim {
namespace {

constexpr uint32_t kWorld = 0xffffffffu;

std::string_view CategoryOf(TraceKind kind) {
  switch (kind) {
    case TraceKind::kTimerFired:
      return "timer";
    case TraceKind::kNodeStart:
    case TraceKind::kNodeCrash:
    case TraceKind::kNodeRestart:
    case TraceKind::kNodePause:
    case TraceKind::kNodeResume:
    case TraceKind::kClockSet:
      return "node";
    case TraceKind::kConnect:
    case TraceKind::kAccept:
    case TraceKind::kEstablished:
    case TraceKind::kChannelFailed:
    case TraceKind::kSend:
    case TraceKind::kDeliver:
    case TraceKind::kDrop:
    case TraceKind::kCreditStall:
    case TraceKind::kCreditReturn:
    case TraceKind::kPartition:
    case TraceKind::kHeal:
      return "net";
    case TraceKind::kDiskCreate:
    case TraceKind::kDiskWrite:
    case TraceKind::kDiskSync:
    case TraceKind::kDiskRead:
    case TraceKind::kDiskRename:
    case TraceKind::kDiskDelete:
    case TraceKind::kDiskCrashLoss:
    case TraceKind::kDiskLost:
    case TraceKind::kDiskError:
      return "disk";
    case TraceKind::kServiceRequest:
    case TraceKind::kServiceReply:
      return "service";
    case TraceKind::kFaultInjected:
    case TraceKind::kFaultFired:
      return "fault";
    case TraceKind::kEngine:
      return "engine";
    case TraceKind::kNote:
      return "note";
  }
  return "other";
}

// Chrome's timestamps are microseconds; keep nanosecond precision with three decimals.
void AppendMicros(std::string& out, Time t) {
  char buf[40];
  const int64_t ns = t.nanos();
  std::snprintf(buf, sizeof buf, "%" PRId64 ".%03" PRId64, ns / 1000, ns % 1000);
  out += buf;
}

int64_t PidOf(uint32_t node) {
  return node == kWorld ? 0 : static_cast<int64_t>(node) + 1;
}

void AppendHeader(std::string& out, const std::string& name, const std::string& cat, const char* ph,
                  Time t, uint32_t node) {
  out += "{\"name\":";
  AppendJsonString(out, name);
  out += ",\"cat\":";
  AppendJsonString(out, cat);
  out += ",\"ph\":\"";
  out += ph;
  out += "\",\"ts\":";
  AppendMicros(out, t);
  out += ",\"pid\":" + std::to_string(PidOf(node)) + ",\"tid\":0";
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

std::string ToChromeTraceJson(const std::vector<TraceRecord>& records,
                              const std::vector<std::string>& node_names) {
  std::string out = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
  bool first = true;
  auto begin_event = [&] {
    if (!first) out += ",\n";
    first = false;
  };
  // Track names.
  for (int64_t pid = 0; pid <= static_cast<int64_t>(node_names.size()); ++pid) {
    begin_event();
    std::string name = pid == 0 ? std::string("world")
                                : "node " + std::to_string(pid - 1) + " (" +
                                      node_names[static_cast<size_t>(pid - 1)] + ")";
    out += "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":" + std::to_string(pid) +
           ",\"tid\":0,\"args\":{\"name\":";
    AppendJsonString(out, name);
    out += "}}";
    begin_event();
    out += "{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":" + std::to_string(pid) +
           ",\"tid\":0,\"args\":{\"sort_index\":" + std::to_string(pid) + "}}";
  }
  // Flow ids: a dense counter per (channel, seq), assigned at the send.
  std::map<std::pair<int64_t, int64_t>, uint64_t> flows;
  uint64_t next_flow = 1;
  for (const TraceRecord& r : records) {
    const TraceKindInfo& info = InfoOf(r.kind);
    begin_event();
    AppendHeader(out, std::string(info.name), std::string(CategoryOf(r.kind)), "X", r.time, r.node);
    out += ",\"dur\":0,\"args\":{\"incarnation\":" + std::to_string(r.incarnation);
    for (size_t i = 0; i < 4; ++i) {
      if (info.args[i].empty()) continue;
      out += ",";
      AppendJsonString(out, info.args[i]);
      out += ":" + std::to_string(r.args[i]);
    }
    if (!r.detail.empty()) {
      out += ",";
      AppendJsonString(out, info.detail.empty() ? "detail" : info.detail);
      out += ":";
      AppendJsonString(out, r.detail);
    }
    out += "}}";
    if (r.kind == TraceKind::kSend || r.kind == TraceKind::kDeliver) {
      const auto key = std::make_pair(r.args[0], r.args[3]);
      uint64_t id = 0;
      if (r.kind == TraceKind::kSend) {
        id = next_flow++;
        flows[key] = id;
      } else {
        auto it = flows.find(key);
        if (it == flows.end()) continue;
        id = it->second;
        flows.erase(it);
      }
      begin_event();
      AppendHeader(out, "message", "net", r.kind == TraceKind::kSend ? "s" : "f", r.time, r.node);
      out += ",\"id\":" + std::to_string(id);
      if (r.kind == TraceKind::kDeliver) out += ",\"bp\":\"e\"";
      out += "}";
    }
  }
  out += "\n]}\n";
  return out;
}

}  // namespace faultline::sim
