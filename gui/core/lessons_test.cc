// Every lesson walked on its real recording: each step's event occurs, in order, so the
// narration a learner reads always follows what the run just did.
#include "gui/core/lessons.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "gui/core/recording.h"
#include "gui/core/timeline.h"
#include "scenarios/loader.h"

namespace faultline::gui {
namespace {

TEST(LessonsTest, AtLeastFiveWithUniqueIdsAndNarration) {
  ASSERT_GE(Lessons().size(), 5u);
  std::set<std::string> ids;
  for (const Lesson& lesson : Lessons()) {
    EXPECT_TRUE(ids.insert(lesson.id).second) << lesson.id;
    ASSERT_GE(lesson.steps.size(), 3u) << lesson.id;
    EXPECT_TRUE(lesson.steps.front().event.empty()) << lesson.id << ": the first step is the intro";
    for (size_t i = 1; i < lesson.steps.size(); ++i) {
      EXPECT_FALSE(lesson.steps[i].event.empty()) << lesson.id << " step " << i;
      EXPECT_FALSE(lesson.steps[i].narration.empty()) << lesson.id << " step " << i;
    }
    EXPECT_EQ(FindLesson(lesson.id), &lesson);
  }
  EXPECT_EQ(FindLesson("no-such-lesson"), nullptr);
}

TEST(LessonsTest, EveryStepsEventOccursInOrder) {
  for (const Lesson& lesson : Lessons()) {
    SCOPED_TRACE(lesson.id);
    Result<scenarios::Scenario> scenario = scenarios::LoadScenarioFile(
        std::string(FAULTLINE_SCENARIO_LIBRARY_DIR) + "/" + lesson.scenario);
    ASSERT_TRUE(scenario.ok()) << scenario.status().ToString();
    Result<Recording> recording = RecordRun(*scenario, {.seed = lesson.seed});
    ASSERT_TRUE(recording.ok()) << recording.status().ToString();
    Timeline timeline(*recording);
    size_t last = 0;
    for (size_t i = 1; i < lesson.steps.size(); ++i) {
      const LessonStep& step = lesson.steps[i];
      ASSERT_TRUE(timeline.StepUntil([&step](const sim::TraceRecord& r) {
        return StepMatches(step, r);
      })) << "step "
          << i << " waits for " << step.event << " " << step.task_prefix << ", which never occurs";
      const size_t applied = timeline.state().applied;
      EXPECT_GT(applied, last);
      EXPECT_TRUE(StepMatches(step, recording->records[applied - 1]));
      last = applied;
    }
  }
}

TEST(LessonsTest, StepsMatchOnlyTheirEvent) {
  const LessonStep barrier{"", "barrier-received", "sum", 2, ""};
  sim::TraceRecord r;
  r.kind = sim::TraceKind::kEngine;
  r.args = {static_cast<int64_t>(engine::EngineEvent::kBarrierReceived), 2, 0, 0};
  r.detail = "sum+out#1";
  EXPECT_TRUE(StepMatches(barrier, r));
  r.detail = "source#1";
  EXPECT_FALSE(StepMatches(barrier, r));
  r.detail = "sum+out#1";
  r.args[1] = 3;
  EXPECT_FALSE(StepMatches(barrier, r));
  const LessonStep crash{"", "crash", "", std::nullopt, ""};
  sim::TraceRecord c;
  c.kind = sim::TraceKind::kNodeCrash;
  EXPECT_TRUE(StepMatches(crash, c));
  EXPECT_FALSE(StepMatches(crash, r));
  EXPECT_FALSE(StepMatches(LessonStep{}, c));
}

}  // namespace
}  // namespace faultline::gui
