// Guided lessons (issue 14): a library scenario played step by step, each step waiting for an
// engine event (or a crash, a fault) and narrating what just happened, as The Secret Lives of
// Data does for Raft. The narration advances on simulation events, not on a timer: "Next" plays
// the run until the step's event occurs. Qt-free, so a test walks every lesson on its real
// recording and asserts each event occurs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "simulator/trace.h"

namespace faultline::gui {

struct LessonStep {
  // What happens, and what to look at; shown when the step's event has occurred.
  std::string narration;
  // The event the step waits for: an engine event's name ("barrier-received",
  // "checkpoint-completed", engine/exec/events.h) or a trace record kind's ("crash",
  // "fault-fired"); empty for the first step, shown at time zero.
  std::string event;
  std::string task_prefix;            // only that task's events ("sum"; empty: any)
  std::optional<int64_t> checkpoint;  // only events of that checkpoint
  std::string tab;  // the view to bring forward ("Checkpoints", "Space-time", ...); empty: none
};

struct Lesson {
  std::string id;        // "why-barriers"
  std::string title;     // "Why barriers"
  std::string scenario;  // a file of the scenario library (scenarios/library/)
  uint64_t seed = 1;
  std::vector<LessonStep> steps;
};

// Every lesson, in teaching order.
const std::vector<Lesson>& Lessons();
// The lesson `id`; null when there is none.
const Lesson* FindLesson(std::string_view id);
// Whether `record` is the event `step` waits for.
bool StepMatches(const LessonStep& step, const sim::TraceRecord& record);

}  // namespace faultline::gui
