#include "simulator/chrome_trace.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <iterator>
#include <map>
#include <set>
#include <utility>

#include "engine/exec/events.h"

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

void AppendHeader(std::string& out, std::string_view name, std::string_view cat, const char* ph,
                  Time t, uint32_t node, uint32_t tid) {
  out += "{\"name\":";
  AppendJsonString(out, name);
  out += ",\"cat\":";
  AppendJsonString(out, cat);
  out += ",\"ph\":\"";
  out += ph;
  out += "\",\"ts\":";
  AppendMicros(out, t);
  out += ",\"pid\":" + std::to_string(PidOf(node)) + ",\"tid\":" + std::to_string(tid);
}

// An engine record's arguments by name.
engine::EventArgs ArgsOf(const TraceRecord& r) {
  return EngineEventOf(r).value().args;
}

// The task an engine event names (its detail), or "" for other records.
std::string_view TaskOf(const TraceRecord& r) {
  if (r.kind != TraceKind::kEngine) return {};
  const engine::EngineEventInfo* info = engine::FindEngineEvent(r.args[0]);
  return info != nullptr && info->source == engine::EventSource::kTask ? r.detail
                                                                       : std::string_view();
}

// One end of a flow arrow, attached to the record at index `record`.
struct FlowEnd {
  size_t record = 0;
  uint64_t id = 0;
  bool start = false;
  bool barrier = false;  // a barrier flow, or a cancellation marker's (else a message)
  bool marker = false;   // a cancellation marker's flow
  int64_t checkpoint = 0;
};

// Pairs sends with deliveries, barrier emissions with their receptions and cancellation markers
// sent with their receptions; only complete flows are kept. The ends come out sorted by record.
std::vector<FlowEnd> PlanFlows(const std::vector<TraceRecord>& records,
                               const std::vector<ChromeTraceTask>& tasks) {
  std::map<std::string_view, const ChromeTraceTask*> task_by_name;
  for (const ChromeTraceTask& t : tasks) task_by_name.emplace(t.name, &t);
  std::map<std::pair<int64_t, int64_t>, size_t> sends;             // (channel, seq) -> record
  std::map<std::pair<std::string_view, int64_t>, size_t> emits;    // (task, checkpoint) -> record
  std::map<std::pair<std::string_view, int64_t>, size_t> markers;  // the same, for markers
  std::vector<FlowEnd> ends;
  uint64_t next_id = 1;
  for (size_t i = 0; i < records.size(); ++i) {
    const TraceRecord& r = records[i];
    if (r.kind == TraceKind::kSend) {
      sends[{r.args[0], r.args[3]}] = i;
    } else if (r.kind == TraceKind::kDeliver) {
      auto it = sends.find({r.args[0], r.args[3]});
      if (it == sends.end()) continue;
      const uint64_t id = next_id++;
      ends.push_back({it->second, id, true, false, false, 0});
      ends.push_back({i, id, false, false, false, 0});
      sends.erase(it);
    } else if (IsEngineEvent(r, engine::EngineEvent::kBarrierEmitted) && !r.detail.empty()) {
      emits[{r.detail, *ArgsOf(r).checkpoint}] = i;  // the latest emission of the checkpoint
    } else if (IsEngineEvent(r, engine::EngineEvent::kCancelMarkerSent) && !r.detail.empty()) {
      markers[{r.detail, *ArgsOf(r).checkpoint}] = i;
    } else if (IsEngineEvent(r, engine::EngineEvent::kBarrierReceived) ||
               IsEngineEvent(r, engine::EngineEvent::kCancelMarkerReceived)) {
      const bool marker = IsEngineEvent(r, engine::EngineEvent::kCancelMarkerReceived);
      const engine::EventArgs args = ArgsOf(r);
      auto task = task_by_name.find(r.detail);
      if (task == task_by_name.end() || *args.input < 0) continue;
      const std::vector<std::string>& inputs = task->second->inputs;
      const auto input = static_cast<uint64_t>(*args.input);
      if (input >= inputs.size()) continue;
      const auto& sent = marker ? markers : emits;
      auto emit = sent.find({inputs[input], *args.checkpoint});
      if (emit == sent.end()) continue;
      const uint64_t id = next_id++;
      ends.push_back({emit->second, id, true, true, marker, *args.checkpoint});
      ends.push_back({i, id, false, true, marker, *args.checkpoint});
    }
  }
  std::stable_sort(ends.begin(), ends.end(),
                   [](const FlowEnd& a, const FlowEnd& b) { return a.record < b.record; });
  return ends;
}

void AppendSpan(std::string& out, const char* ph, int64_t checkpoint, Time t, uint32_t node) {
  AppendHeader(out, "checkpoint " + std::to_string(checkpoint), "checkpoint", ph, t, node, 0);
  out += ",\"id\":" + std::to_string(checkpoint);
}

}  // namespace

std::vector<ChromeTraceTask> ChromeTraceTasks(const engine::ExecutionPlan& plan) {
  std::vector<ChromeTraceTask> tasks;
  for (const engine::TaskSpec& spec : plan.tasks) {
    ChromeTraceTask task{spec.name, {}};
    for (uint32_t producer : plan.InputsOf(spec.index)) {
      task.inputs.push_back(plan.tasks[producer].name);
    }
    tasks.push_back(std::move(task));
  }
  return tasks;
}

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
                              const std::vector<std::string>& node_names,
                              const std::vector<ChromeTraceTask>& tasks) {
  // Threads: tid 0 is the node itself; task threads are numbered in the order of `tasks`,
  // then in order of appearance.
  std::map<std::string, uint32_t, std::less<>> task_tids;
  std::vector<std::string> tid_names{"node"};
  auto tid_of_task = [&](std::string_view task) -> uint32_t {
    auto it = task_tids.find(task);
    if (it != task_tids.end()) return it->second;
    const auto tid = static_cast<uint32_t>(tid_names.size());
    task_tids.emplace(std::string(task), tid);
    tid_names.emplace_back(task);
    return tid;
  };
  for (const ChromeTraceTask& t : tasks) tid_of_task(t.name);
  std::vector<uint32_t> tids(records.size(), 0);
  std::set<std::pair<int64_t, uint32_t>> threads;  // (pid, tid) used
  for (size_t i = 0; i < records.size(); ++i) {
    const std::string_view task = TaskOf(records[i]);
    if (!task.empty()) tids[i] = tid_of_task(task);
    threads.insert({PidOf(records[i].node), tids[i]});
  }

  std::string out = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
  bool first = true;
  auto begin_event = [&] {
    if (!first) out += ",\n";
    first = false;
  };
  auto metadata = [&](std::string_view name, int64_t pid, uint32_t tid, std::string_view key,
                      const std::string& json_value) {
    begin_event();
    out += "{\"name\":";
    AppendJsonString(out, name);
    out += ",\"ph\":\"M\",\"ts\":0,\"pid\":" + std::to_string(pid) +
           ",\"tid\":" + std::to_string(tid) + ",\"args\":{";
    AppendJsonString(out, key);
    out += ":" + json_value + "}}";
  };
  // Process names, then thread names.
  for (int64_t pid = 0; pid <= static_cast<int64_t>(node_names.size()); ++pid) {
    std::string name = pid == 0 ? std::string("world")
                                : "node " + std::to_string(pid - 1) + " (" +
                                      node_names[static_cast<size_t>(pid - 1)] + ")";
    std::string quoted;
    AppendJsonString(quoted, name);
    metadata("process_name", pid, 0, "name", quoted);
    metadata("process_sort_index", pid, 0, "sort_index", std::to_string(pid));
  }
  for (const auto& [pid, tid] : threads) {
    std::string quoted;
    AppendJsonString(quoted, pid == 0 && tid == 0 ? "world" : tid_names[tid]);
    metadata("thread_name", pid, tid, "name", quoted);
    metadata("thread_sort_index", pid, tid, "sort_index", std::to_string(tid));
  }

  const std::vector<FlowEnd> flows = PlanFlows(records, tasks);
  size_t next_flow = 0;
  // Checkpoint spans, open from checkpoint-triggered until closed: checkpoint -> JobManager node.
  std::map<int64_t, uint32_t> spans;
  auto close_span = [&](std::map<int64_t, uint32_t>::iterator it, Time t,
                        std::string_view outcome) {
    begin_event();
    AppendSpan(out, "e", it->first, t, it->second);
    out += ",\"args\":{\"outcome\":";
    AppendJsonString(out, outcome);
    out += "}}";
    return spans.erase(it);
  };
  for (size_t i = 0; i < records.size(); ++i) {
    const TraceRecord& r = records[i];
    const TraceKindInfo& info = InfoOf(r.kind);
    begin_event();
    const std::string_view name =
        r.kind == TraceKind::kEngine ? engine::EngineEventName(r.args[0]) : info.name;
    AppendHeader(out, name, CategoryOf(r.kind), "X", r.time, r.node, tids[i]);
    out += ",\"dur\":0,\"args\":{\"incarnation\":" + std::to_string(r.incarnation);
    const engine::EngineEventInfo* event =
        r.kind == TraceKind::kEngine ? engine::FindEngineEvent(r.args[0]) : nullptr;
    for (size_t a = 0; a < 4; ++a) {
      // An engine event's arguments by the names its table row gives them.
      std::string_view arg_name = info.args[a];
      if (event != nullptr && a > 0) arg_name = engine::EventArgName(event->args[a - 1]);
      if (arg_name.empty()) continue;
      out += ",";
      AppendJsonString(out, arg_name);
      out += ":";
      if (r.kind == TraceKind::kEngine && a == 0) {
        AppendJsonString(out, name);
      } else {
        out += std::to_string(r.args[a]);
      }
    }
    if (!r.detail.empty()) {
      out += ",";
      AppendJsonString(out, info.detail.empty() ? "detail" : info.detail);
      out += ":";
      AppendJsonString(out, r.detail);
    }
    out += "}}";
    // The flow ends attached to this record.
    for (; next_flow < flows.size() && flows[next_flow].record == i; ++next_flow) {
      const FlowEnd& f = flows[next_flow];
      begin_event();
      AppendHeader(out,
                   f.marker    ? "cancel-marker"
                   : f.barrier ? "barrier"
                               : "message",
                   f.barrier ? "barrier" : "net", f.start ? "s" : "f", r.time, r.node, tids[i]);
      out += ",\"id\":" + std::to_string(f.id);
      if (!f.start) out += ",\"bp\":\"e\"";
      if (f.barrier) out += ",\"args\":{\"checkpoint\":" + std::to_string(f.checkpoint) + "}";
      out += "}";
    }
    // Checkpoint spans.
    if (IsEngineEvent(r, engine::EngineEvent::kTriggered)) {
      const engine::EventArgs args = ArgsOf(r);
      auto open = spans.find(*args.checkpoint);
      if (open != spans.end()) close_span(open, r.time, "triggered again");
      spans[*args.checkpoint] = r.node;
      begin_event();
      AppendSpan(out, "b", *args.checkpoint, r.time, r.node);
      out += ",\"args\":{\"checkpoint\":" + std::to_string(*args.checkpoint) +
             ",\"final\":" + (*args.final != 0 ? "true" : "false") + "}}";
    } else if (IsEngineEvent(r, engine::EngineEvent::kPointerMoved) ||
               IsEngineEvent(r, engine::EngineEvent::kCheckpointAborted)) {
      auto open = spans.find(*ArgsOf(r).checkpoint);
      if (open != spans.end()) {
        close_span(open, r.time,
                   IsEngineEvent(r, engine::EngineEvent::kPointerMoved)
                       ? std::string("completed")
                       : "aborted" + (r.detail.empty() ? std::string() : ": " + r.detail));
      }
    } else if (r.kind == TraceKind::kNodeCrash) {
      for (auto it = spans.begin(); it != spans.end();) {
        it =
            it->second == r.node ? close_span(it, r.time, "the JobManager crashed") : std::next(it);
      }
    }
  }
  const Time end = records.empty() ? Time::Zero() : records.back().time;
  for (auto it = spans.begin(); it != spans.end();) it = close_span(it, end, "unfinished");
  out += "\n]}\n";
  return out;
}

}  // namespace faultline::sim
