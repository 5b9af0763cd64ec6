#include "gui/core/lessons.h"

#include "engine/exec/events.h"

namespace faultline::gui {
namespace {

std::vector<Lesson> Build() {
  std::vector<Lesson> lessons;

  lessons.push_back(Lesson{
      "why-barriers",
      "Why barriers: a consistent snapshot without stopping the job",
      "happy_aligned.textproto",
      1,
      {
          {"A job reads a log through four source subtasks, doubles each value, keys the records "
           "and keeps a running sum and count per key, and writes to a two-phase-commit sink. To "
           "recover from a crash it needs a snapshot of every task's state that is consistent: "
           "one that reflects every record up to some point of the input, and none after. "
           "Stopping the whole job to take it would stall it. Press Next.",
           "", "", std::nullopt, ""},
          {"The checkpoint coordinator, in the JobManager, triggers checkpoint 1. It stops "
           "nothing: it asks each source to inject a barrier into its output streams.",
           "checkpoint-triggered", "", 1, "Checkpoints"},
          {"A source records how far it has read (its offsets) and sends barrier 1 downstream, in "
           "band: after the records it already sent, before any it sends next. The barrier cuts "
           "its stream into 'before checkpoint 1' and 'after'.",
           "barrier-emitted", "source", 1, ""},
          {"Barrier 1 reached a sum subtask on one of its inputs. Everything before it on that "
           "channel belongs to checkpoint 1, everything after it to the next one. The space-time "
           "diagram draws the barrier's arrow from the source's lane to this one.",
           "barrier-received", "sum", 1, "Space-time"},
          {"With barrier 1 in from every input, the sum subtask snapshots its state (the sums "
           "and counts per key): it reflects exactly the records before the barrier on each "
           "input. Then it forwards the barrier, and goes on processing.",
           "snapshot-captured", "sum", 1, ""},
          {"Each task uploads its snapshot to the blob store and acknowledges checkpoint 1 to the "
           "coordinator.",
           "ack-sent", "", 1, ""},
          {"Every task acknowledged: the coordinator writes the checkpoint's metadata and moves "
           "the pointer to it. Checkpoint 1 is complete. Together the snapshots are a consistent "
           "cut of the job, taken while records kept flowing: a crash now rewinds to it.",
           "checkpoint-completed", "", 1, "Checkpoints"},
      }});

  lessons.push_back(Lesson{
      "alignment",
      "Alignment: why a task waits for every barrier, and what recovery does with the cut",
      "crash_during_alignment.textproto",
      1,
      {
          {"Aligned checkpoints (exactly-once). A task with several inputs cannot snapshot at the "
           "first barrier: its other inputs still carry records from before the checkpoint. It "
           "aligns: it blocks each input whose barrier came, keeps processing the others, and "
           "snapshots when the last barrier is in. Press Next.",
           "", "", std::nullopt, ""},
          {"Barrier 1 arrived on one input of a sum subtask. That input is now blocked (the red "
           "bar at the end of its channel on the canvas): what arrives behind the barrier waits "
           "in its input queue, because it belongs after the checkpoint.",
           "barrier-received", "sum", 1, ""},
          {"The last barrier arrived: alignment is done. The subtask snapshots its state, "
           "forwards the barrier and unblocks every input; what queued behind the barriers is "
           "processed now. The space-time diagram shades the alignment.",
           "aligned", "sum", 1, "Space-time"},
          {"Checkpoint 1 is complete.", "checkpoint-completed", "", 1, "Checkpoints"},
          {"A TaskManager crashes while sum#2 is aligning checkpoint 3. Its subtasks are lost "
           "(grey on the canvas); checkpoint 3 cannot complete.",
           "crash", "", std::nullopt, "Moments"},
          {"The job restarts: every task of the attempt is cancelled.", "job-restart", "",
           std::nullopt, ""},
          {"The job is deployed again from the latest completed checkpoint: each task restores "
           "its snapshot and each source rewinds to the offsets in it. The records after the cut "
           "are read again, and the restored state has not seen them: each counts once.",
           "deployed", "", std::nullopt, "Moments"},
          {"Checkpointing goes on from the restored cut.", "checkpoint-completed", "", std::nullopt,
           "Checkpoints"},
      }});

  lessons.push_back(Lesson{
      "unaligned",
      "Unaligned checkpoints under back-pressure",
      "backpressure_unaligned.textproto",
      1,
      {
          {"Back-pressure: the slow operator takes ten times longer per record than the sources "
           "need to produce one. Queues fill on every channel: the squares on the edges are "
           "buffers waiting, dark boxes are back-pressured (waiting for credit). An aligned "
           "barrier would have to wait behind all of it. Press Next.",
           "", "", std::nullopt, ""},
          {"Checkpoint 1 is triggered while the channels are full.", "checkpoint-triggered", "", 1,
           "Checkpoints"},
          {"An unaligned barrier overtakes: the slow subtask handles it the moment it arrives, "
           "ahead of the buffers queued on its input, and sends it on ahead of its own output "
           "queue.",
           "barrier-received", "slow", 1, "Space-time"},
          {"The subtask snapshots its state together with the buffers the barrier overtook: the "
           "in-flight data becomes part of the checkpoint (channel state). Nothing waits for the "
           "backlog to drain.",
           "snapshot-captured", "slow", 1, ""},
          {"Checkpoint 1 completes despite the backlog; its size includes the channel state. "
           "Compare backpressure_aligned, where barriers wait behind every queued buffer and "
           "checkpoints take seconds. On a restore the channel state is replayed before any new "
           "input.",
           "checkpoint-completed", "", 1, "Checkpoints"},
      }});

  lessons.push_back(Lesson{
      "two-phase-commit",
      "The two-phase-commit sink: exactly-once output",
      "crash_between_completion_and_notification.textproto",
      1,
      {
          {"The sink writes to an external store. For exactly-once output it uses two-phase "
           "commit: records go into a transaction, the transaction is pre-committed with the "
           "checkpoint, and committed only once the checkpoint completes. Press Next.",
           "", "", std::nullopt, ""},
          {"On barrier 1 the sink flushes and pre-commits its open transaction and puts the "
           "transaction in its snapshot. Readers of the store see none of it yet.",
           "snapshot-captured", "sum", 1, ""},
          {"Checkpoint 1 completes.", "checkpoint-completed", "", 1, "Checkpoints"},
          {"The coordinator notifies every task that checkpoint 1 completed. On that notification "
           "the sink commits the transactions checkpoint 1 pre-committed: now the output is "
           "visible.",
           "notification-sent", "", 1, ""},
          {"The JobManager dies the moment checkpoint 3 completes, before it tells anyone: the "
           "sinks' transactions for checkpoint 3 are pre-committed, not committed.",
           "crash", "", std::nullopt, "Moments"},
          {"A new JobManager deploys the job from checkpoint 3: the pointer had moved, so it is "
           "complete.",
           "deployed", "", std::nullopt, "Moments"},
          {"Each restored sink finds the transactions checkpoint 3 pre-committed in its snapshot "
           "and commits them, asking the store first, so none is committed twice. Output "
           "exactly once: see the verdicts.",
           "restore-finished", "sum", std::nullopt, "Verdicts"},
      }});

  lessons.push_back(Lesson{
      "teaching-switch",
      "What a teaching switch breaks: no alignment",
      "switch_no_alignment.textproto",
      1,
      {
          {"This run has the teaching switch no-alignment on: in exactly-once mode a task goes on "
           "processing an input after its barrier came, before the barrier has arrived on every "
           "input. A slow control link makes one TaskManager's sources inject their barriers "
           "late. Press Next.",
           "", "", std::nullopt, ""},
          {"A barrier arrived on one input of a sum subtask. Aligned, that input would now block. "
           "With the switch on it keeps flowing: records from after the checkpoint enter the "
           "state before the snapshot.",
           "barrier-received", "sum", std::nullopt, "Space-time"},
          {"The snapshot is taken when the last barrier is in, but the state already reflects "
           "records from after the checkpoint on the inputs whose barrier came first: not a "
           "consistent cut.",
           "snapshot-captured", "sum", std::nullopt, ""},
          {"The checkpoint completes; nothing looks wrong yet.", "checkpoint-completed", "",
           std::nullopt, "Checkpoints"},
          {"The JobManager crashes after checkpoint 3.", "crash", "", std::nullopt, "Moments"},
          {"Recovery restores the inconsistent checkpoint and rewinds the sources: records the "
           "restored state already reflects are read and counted again.",
           "deployed", "", std::nullopt, "Moments"},
          {"The job finishes. The verdicts: EO-CUT finds checkpoints that are not consistent "
           "cuts, EO-OUT finds the output changed. Next violation (V) goes to where each shows. "
           "Turn the switch off (Teaching switches menu) and the same run passes.",
           "job-finished", "", std::nullopt, "Verdicts"},
      }});
  return lessons;
}

}  // namespace

const std::vector<Lesson>& Lessons() {
  static const std::vector<Lesson> lessons = Build();
  return lessons;
}

const Lesson* FindLesson(std::string_view id) {
  for (const Lesson& lesson : Lessons()) {
    if (lesson.id == id) return &lesson;
  }
  return nullptr;
}

bool StepMatches(const LessonStep& step, const sim::TraceRecord& record) {
  if (step.event.empty()) return false;
  if (record.kind != sim::TraceKind::kEngine) {
    return sim::InfoOf(record.kind).name == step.event && step.task_prefix.empty() &&
           !step.checkpoint;
  }
  const std::optional<sim::EngineEventView> e = sim::EngineEventOf(record);
  if (!e || engine::InfoOf(e->event).name != step.event) return false;
  if (!step.task_prefix.empty() && !record.detail.starts_with(step.task_prefix)) return false;
  if (step.checkpoint && e->args.checkpoint != *step.checkpoint) return false;
  return true;
}

}  // namespace faultline::gui
