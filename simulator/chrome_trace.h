// Export of a trace to Chrome Trace Event Format JSON, which Perfetto (ui.perfetto.dev) and
// chrome://tracing open:
//   - one process (pid) per node, plus a "world" process for world-level records;
//   - in each node's process, one thread (tid) per task of the job: engine events that name a
//     task (barrier-emitted, barrier-received, aligned, snapshot-captured, uploaded, ack-sent,
//     ...; their detail is the task name, "sum+out#2") go on the task's thread, named after the
//     task; every other record goes on the node's thread (tid 0, "node");
//   - every record a zero-length slice ("X") with its named arguments; engine events are named
//     after the event ("barrier-emitted");
//   - flow arrows ("s" -> "f", one id each): from each message's send to its delivery, and,
//     when the job's tasks are given, from each task's barrier-emitted of checkpoint n to the
//     barrier-received of checkpoint n in every task consuming its output;
//   - on the JobManager's process, one async span per checkpoint ("b" -> "e"), from
//     checkpoint-triggered to checkpoint-completed or checkpoint-aborted (or the JobManager's
//     crash, or the end of the trace), its outcome in the end's arguments.
// Only complete flows are written: a message never delivered gets no arrow.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/exec/plan.h"
#include "simulator/trace.h"

namespace faultline::sim {

// A task of the job, for task tracks and barrier flows.
struct ChromeTraceTask {
  std::string name;                 // as the engine's events name it: "sum+out#2"
  std::vector<std::string> inputs;  // the producer task of each input channel, in channel order
};

// The tasks of an execution plan, in plan order (sources first).
std::vector<ChromeTraceTask> ChromeTraceTasks(const engine::ExecutionPlan& plan);

// `node_names[i]` labels node i's process. `tasks` (optional) orders the task threads and
// enables barrier flows; without it task threads come in order of appearance and only message
// flows are drawn.
std::string ToChromeTraceJson(const std::vector<TraceRecord>& records,
                              const std::vector<std::string>& node_names,
                              const std::vector<ChromeTraceTask>& tasks = {});

// JSON string escaping (quotes, backslashes, control characters).
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace faultline::sim
