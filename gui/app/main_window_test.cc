// faultline-gui's views under QTest, offscreen (QT_QPA_PLATFORM=offscreen): open a library
// scenario, play, step to the next barrier, checkpoint and fault, scrub back and forth, and read
// what the views show from their models (the checkpoint table, the moments, the verdicts, the
// dataflow canvas's task boxes), not from pixels.
#include "gui/app/main_window.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDir>
#include <QFontInfo>
#include <QLineEdit>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTest>
#include <QTreeWidget>
#include <set>

#include "gui/app/checkpoint_model.h"
#include "gui/app/dataflow_view.h"
#include "gui/app/scrubber.h"
#include "gui/app/space_time_view.h"
#include "scenarios/loader.h"
#include "scenarios/runner.h"

namespace faultline::gui {

class MainWindowTest : public QObject {
  Q_OBJECT

 private:
  static QString Library(const char* file) {
    return QString(FAULTLINE_SCENARIO_LIBRARY_DIR) + "/" + file;
  }

 private slots:
  void OpensARunAtTimeZero() {
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(w.Open(Library("rescale_4_to_2.textproto"), 1).ok());
    QCOMPARE(w.timeline()->state().applied, size_t{0});
    QCOMPARE(w.checkpoints()->rowCount(), 0);
    // The canvas lays out the plan as submitted before anything ran: 8 tasks in 2 columns.
    QCOMPARE(w.dataflow()->TaskBoxes().size(), size_t{8});
    QVERIFY(w.windowTitle().contains("rescale_4_to_2"));
    QVERIFY(w.Reproducer().startsWith("faultline run "));
    QVERIFY(w.Reproducer().contains("--seed 1"));
    // Every checker's verdict is listed.
    QCOMPARE(w.verdicts()->topLevelItemCount(),
             static_cast<int>(w.recording()->report.verdicts.size()));
    // Text renders in a real font family.
    QVERIFY(!QFontInfo(w.font()).family().isEmpty());
  }

  // The canvas draws what is in flight at the moment: every buffer of the flow's frame on its
  // channel, queued or on the wire, barriers by kind, back-pressured tasks, blocked inputs,
  // and it paints the items in bulk (a call per colour, not per item).
  void DrawsWhatIsInFlightOnTheChannels() {
    MainWindow w;
    w.resize(1400, 900);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(w.Open(Library("backpressure_aligned.textproto"), 1).ok());
    const DataflowView& canvas = *w.dataflow();
    size_t most = 0;
    bool backpressured = false, busy = false, blocked = false, state = false;
    const int64_t end = w.timeline()->end().nanos();
    for (int k = 1; k <= 300; ++k) {
      w.SeekTime(Time::FromNanos(end / 301 * k));
      const FlowFrame& frame = canvas.frame();
      const DataflowView::Marks& marks = canvas.marks();
      // Every item of the frame has its place on a channel.
      QCOMPARE(marks.records_buffers + marks.barriers + marks.unaligned_barriers + marks.other,
               frame.items.size());
      QCOMPARE(marks.records, frame.records_in_flight);
      QCOMPARE(marks.on_wire + marks.queued, frame.items.size());
      most = std::max(most, frame.items.size());
      for (const DataflowView::TaskBox& box : canvas.TaskBoxes()) {
        backpressured |= box.backpressured;
        busy |= box.busy > 0.4;
        state |= box.state_entries > 0;
      }
      for (const DataflowView::Edge& edge : canvas.Edges()) blocked |= edge.blocked;
      if (frame.items.size() > 20 && k % 10 == 0) {
        const QImage image = w.dataflow()->grab().toImage();
        QVERIFY(!image.isNull());
        QVERIFY(marks.fill_calls > 0);
        QVERIFY(marks.fill_calls < frame.items.size());
      }
    }
    QVERIFY(most > 20);
    QVERIFY(backpressured);
    QVERIFY(busy);
    QVERIFY(state);
    QVERIFY(blocked);
    // 4 x 4 channels into the rebalance and 4 x 4 into the keyed exchange: every one an edge.
    QCOMPARE(canvas.Edges().size(), size_t{32});
  }

  // An unaligned barrier on the wire is drawn as one, ahead of the records it overtakes.
  void DrawsAnUnalignedBarrierOnTheWire() {
    MainWindow w;
    QVERIFY(w.Open(Library("backpressure_unaligned.textproto"), 1).ok());
    const FlowItem* barrier = nullptr;
    for (const FlowItem& item : w.recording()->flow.items()) {
      if (item.buffer.kind == engine::BufferInfo::Kind::kBarrier && item.buffer.unaligned &&
          item.arrived != Time::Max() && item.arrived > item.sent) {
        barrier = &item;
        break;
      }
    }
    QVERIFY(barrier != nullptr);
    w.SeekTime(barrier->sent + (barrier->arrived - barrier->sent) / 2);
    QVERIFY(w.dataflow()->marks().unaligned_barriers >= 1);
    QVERIFY(w.dataflow()->marks().on_wire >= 1);
  }

  // The scrubber marks faults, completed checkpoints and violations; selecting a violation in
  // the verdicts, or "Next violation", goes to its moment.
  void MarksTheScrubberAndJumpsToAViolation() {
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(w.Open(Library("switch_no_alignment.textproto"), std::nullopt).ok());
    const std::vector<Scrubber::Mark>& marks = w.scrubber()->marks();
    const auto count = [&marks](Moment::Kind kind) {
      return std::count_if(marks.begin(), marks.end(),
                           [kind](const Scrubber::Mark& m) { return m.kind == kind; });
    };
    QVERIFY(count(Moment::Kind::kCheckpointCompleted) >= 1);
    QVERIFY(count(Moment::Kind::kFault) >= 1);
    QCOMPARE(static_cast<size_t>(count(Moment::Kind::kViolation)), w.violations().size());
    for (const Scrubber::Mark& m : marks) {
      QVERIFY(m.ms >= w.scrubber()->minimum() && m.ms <= w.scrubber()->maximum());
      QVERIFY(!m.text.isEmpty());
    }
    // The violations (EO-CUT's among them), each at a moment of the run; "Next violation" visits
    // them in time order, then there is none after.
    QVERIFY(!w.violations().empty());
    size_t eo_cut_index = w.violations().size();
    std::set<size_t> moments;
    for (size_t i = 0; i < w.violations().size(); ++i) {
      if (QString::fromStdString(w.violations()[i].text).startsWith("EO-CUT")) eo_cut_index = i;
      moments.insert(w.violations()[i].record);
    }
    QVERIFY(eo_cut_index < w.violations().size());
    size_t visited = 0;
    while (w.NextViolation()) {
      QVERIFY(moments.contains(w.timeline()->state().applied));
      ++visited;
    }
    QCOMPARE(visited, moments.size());
    // From the verdicts: clicking the violated checker's row goes there too.
    w.SeekTime(Time::Zero());
    QTreeWidgetItem* eo_cut = nullptr;
    for (int i = 0; i < w.verdicts()->topLevelItemCount(); ++i) {
      if (w.verdicts()->topLevelItem(i)->text(0) == "EO-CUT")
        eo_cut = w.verdicts()->topLevelItem(i);
    }
    QVERIFY(eo_cut != nullptr);
    QVERIFY(eo_cut->text(1).startsWith("VIOLATION at "));
    emit w.verdicts()->itemClicked(eo_cut, 0);
    QCOMPARE(w.timeline()->state().applied, w.violations()[eo_cut_index].record);
    // The mark is drawn where the moment is on the groove.
    QVERIFY(w.scrubber()->XOf(w.scrubber()->maximum()) > w.scrubber()->XOf(0));
    QVERIFY(!w.scrubber()->grab().toImage().isNull());
  }

  // Every lesson, walked from the lesson panel: each Next plays to the step's engine event (the
  // record just applied is that event), shows its narration and brings its view forward.
  void WalksEveryLesson() {
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(Lessons().size() >= 5);
    for (const Lesson& lesson : Lessons()) {
      QVERIFY(w.StartLesson(QString::fromStdString(lesson.id)).ok());
      QCOMPARE(w.lesson(), &lesson);
      QCOMPARE(w.timeline()->state().applied, size_t{0});
      QCOMPARE(w.narration(), QString::fromStdString(lesson.steps[0].narration));
      for (size_t i = 1; i < lesson.steps.size(); ++i) {
        QVERIFY2(w.NextLessonStep(), (lesson.id + " step " + std::to_string(i)).c_str());
        QCOMPARE(w.lesson_step(), i);
        const size_t applied = w.timeline()->state().applied;
        QVERIFY(applied > 0);
        QVERIFY(StepMatches(lesson.steps[i], w.recording()->records[applied - 1]));
        QCOMPARE(w.narration(), QString::fromStdString(lesson.steps[i].narration));
      }
      QVERIFY(!w.NextLessonStep());  // the end
    }
    QVERIFY(!w.StartLesson("no-such-lesson").ok());
    w.EndLesson();
    QVERIFY(w.lesson() == nullptr);
  }

  // Space-time lanes filtered by name and hidden one by one; arrows and dots only between the
  // lanes shown.
  void FiltersAndHidesSpaceTimeLanes() {
    MainWindow w;
    QVERIFY(w.Open(Library("happy_aligned.textproto"), 1).ok());
    QVERIFY(w.NextCheckpointEnd());
    SpaceTimeView& view = *w.space_time();
    QCOMPARE(view.VisibleLanes(), size_t{8});
    const size_t arrows = view.VisibleArrows();
    const size_t dots = view.VisibleDots();
    QVERIFY(arrows >= 16);
    QVERIFY(dots >= 8);
    // Only the sum subtasks: their snapshots stay, no arrow has both ends shown.
    QTest::keyClicks(w.lane_filter(), "SUM");
    QCOMPARE(view.lane_filter(), QString("SUM"));
    QCOMPARE(view.VisibleLanes(), size_t{4});
    QCOMPARE(view.VisibleArrows(), size_t{0});
    QVERIFY(view.VisibleDots() >= 4 && view.VisibleDots() < dots);
    w.lane_filter()->clear();
    QCOMPARE(view.VisibleLanes(), size_t{8});
    // Hide one source lane: its arrows (to the 4 sum subtasks) and its dot go.
    view.HideLane(0, true);
    QCOMPARE(view.VisibleLanes(), size_t{7});
    QVERIFY(!view.LaneVisible(0));
    QVERIFY(view.VisibleArrows() < arrows);
    QCOMPARE(view.VisibleDots(), dots - 1);
    QVERIFY(view.LaneAt(-100) == -1);
    view.ShowAllLanes();
    QCOMPARE(view.VisibleLanes(), size_t{8});
    QCOMPARE(view.VisibleArrows(), arrows);
  }

  // The network actions: a partition of a TaskManager and a slowed link, taken at a moment,
  // become branches whose runs show the fault; a channel on the canvas is found under the mouse.
  void PartitionsAndSlowsALinkAsBranches() {
    MainWindow w;
    w.resize(1400, 900);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(w.Open(Library("happy_aligned.textproto"), 1).ok());
    w.SeekTime(Time::Zero() + Duration::Millis(1500));
    const Recording& base = *w.recording();
    const uint32_t tm = base.task_manager_nodes.at(0);
    std::vector<uint32_t> others{base.job_manager_node};
    for (uint32_t n : base.task_manager_nodes) {
      if (n != tm) others.push_back(n);
    }
    QVERIFY(w.BranchHere(PartitionFault({tm}, others, Duration::Seconds(2)), "partition").ok());
    QCOMPARE(w.current_branch(), 1);
    bool partitioned = false;
    while (w.NextFault()) {
      partitioned |= w.moments()->stringList().last().contains("network partition");
    }
    QVERIFY(partitioned);
    QVERIFY(w.Reproducer().contains("partition"));
    w.SwitchBranch(0);
    QVERIFY(w.BranchHere(SlowLinkFault(tm, base.job_manager_node, Duration::Millis(300),
                                       Duration::Seconds(5)),
                         "slow link")
                .ok());
    QCOMPARE(w.current_branch(), 2);
    QVERIFY(w.Reproducer().contains("latency_spike"));
    QVERIFY(w.recording()->report.trace_hash != base.report.trace_hash);
    // The canvas finds a channel under a point on its line, and nothing far from every line.
    const DataflowView& canvas = *w.dataflow();
    QVERIFY(!canvas.Edges().empty());
    const DataflowView::Edge& edge = canvas.Edges().front();
    const QPointF middle = (edge.start + edge.end) / 2;
    QVERIFY(canvas.EdgeAt(middle) >= 0);
    QVERIFY(canvas.EdgeAt(edge.start + (edge.end - edge.start) * 0.25 + QPointF(0, 3)) >= 0);
    QCOMPARE(canvas.EdgeAt(QPointF(2, 2)), -1);
  }

  // Compare: a branch against its parent parts at its moment, and the differences table shows
  // the crash there; another seed parts too; the same branch never does.
  void ComparesBranchesAndSeeds() {
    MainWindow w;
    QVERIFY(w.Open(Library("happy_aligned.textproto"), 1).ok());
    w.SeekTime(Time::Zero() + Duration::Millis(1500));
    const Time at = w.timeline()->state().now;
    const uint32_t tm = w.recording()->task_manager_nodes.at(0);
    QVERIFY(w.BranchHere(CrashTaskManagerFault(tm, Duration::Seconds(1)), "crash").ok());
    QCOMPARE(w.current_branch(), 1);
    QVERIFY(w.CompareWithBranch(0).ok());
    QVERIFY(w.comparing());
    QVERIFY(w.divergence().has_value());
    QVERIFY(w.divergence()->at >= at - Duration::Nanos(1));
    QVERIFY(w.GoToDivergence());
    QCOMPARE(w.timeline()->state().applied, w.divergence()->record + 1);
    // A little later the branch has a TaskManager down and the parent has not.
    w.SeekTime(w.divergence()->at + Duration::Millis(100));
    bool nodes_differ = false;
    for (int r = 0; r < w.differences()->rowCount(); ++r) {
      nodes_differ |= w.differences()->item(r, 0)->text() == "nodes down";
    }
    QVERIFY(nodes_differ);
    // Back before the moment: the same state.
    w.SeekTime(at - Duration::Millis(10));
    QCOMPARE(w.differences()->rowCount(), 0);
    // The same branch: no divergence. Another seed: one.
    QVERIFY(w.CompareWithBranch(1).ok());
    QVERIFY(!w.divergence().has_value());
    QVERIFY(!w.GoToDivergence());
    QVERIFY(w.CompareWithSeed(2).ok());
    QVERIFY(w.divergence().has_value());
    QVERIFY(!w.CompareWithBranch(7).ok());
    w.StopComparing();
    QVERIFY(!w.comparing());
  }

  // The inspector: a click on a box inspects that subtask; its tree follows the run.
  void InspectsASubtaskFromTheCanvas() {
    MainWindow w;
    w.resize(1400, 900);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(w.Open(Library("backpressure_aligned.textproto"), 1).ok());
    w.SeekTime(Time::Zero() + Duration::Millis(300));
    const DataflowView::TaskBox* box = nullptr;
    for (const DataflowView::TaskBox& b : w.dataflow()->TaskBoxes()) {
      if (b.name == "sum+out#1") box = &b;
    }
    QVERIFY(box != nullptr);
    QTest::mouseClick(w.dataflow(), Qt::LeftButton, {}, box->rect.center().toPoint());
    QCOMPARE(QString::fromStdString(w.inspection().name), QString("sum+out#1"));
    QVERIFY(w.inspection().found);
    QCOMPARE(w.inspection().inputs.size(), size_t{4});
    QVERIFY(!w.inspection().key_groups.empty());
    QVERIFY(w.inspector()->topLevelItemCount() >= 3);
    QCOMPARE(w.inspector()->topLevelItem(1)->childCount(), 4);  // one row per input
    // It follows the run: at the end the subtask is finished and has a snapshot.
    w.SeekTime(w.timeline()->end());
    QCOMPARE(w.inspection().phase, TaskPhase::kFinished);
    QVERIFY(w.inspection().last_snapshot > 0);
  }

  // A directory `faultline run --export` wrote opens as the run it exported.
  void OpensAnExportedRun() {
    const QString dir = QDir::tempPath() + "/faultline_gui_exported";
    QDir(dir).removeRecursively();
    Result<scenarios::Scenario> scenario =
        scenarios::LoadScenarioFile(Library("crash_during_alignment.textproto").toStdString());
    QVERIFY(scenario.ok());
    Result<scenarios::RunReport> report =
        scenarios::RunScenario(*scenario, {.seed = 3, .export_dir = dir.toStdString()});
    QVERIFY(report.ok());
    MainWindow w;
    QVERIFY(w.Open(dir, std::nullopt).ok());
    QCOMPARE(w.recording()->report.trace_hash, report->trace_hash);
    QVERIFY(w.Reproducer().contains("--seed 3"));
    QVERIFY(w.Open(dir + "/run.json", std::nullopt).ok());
    QCOMPARE(w.recording()->report.trace_hash, report->trace_hash);
    QVERIFY(!w.Open(dir, 4).ok());  // an exported run has its own seed
    QDir(dir).removeRecursively();
  }

  // The checkers on the run so far: at the first barrier EO-CUT finds nothing; once the
  // inconsistent checkpoint completes it finds it.
  void ChecksTheRunSoFar() {
    MainWindow w;
    QVERIFY(w.Open(Library("switch_no_alignment.textproto"), std::nullopt).ok());
    QVERIFY(w.NextBarrier());
    QVERIFY(w.CheckSoFar().ok());
    const auto eo_cut = [](const scenarios::RunReport& r) -> const checkers::Verdict* {
      for (const checkers::Verdict& v : r.verdicts) {
        if (v.rule() == "EO-CUT") return &v;
      }
      return nullptr;
    };
    QVERIFY(w.prefix_report() != nullptr);
    QVERIFY(eo_cut(*w.prefix_report()) != nullptr);
    QVERIFY(!eo_cut(*w.prefix_report())->violated());
    QCOMPARE(w.prefix_verdicts()->topLevelItemCount(),
             static_cast<int>(w.prefix_report()->verdicts.size()));
    size_t index = w.violations().size();
    for (size_t i = 0; i < w.violations().size(); ++i) {
      if (QString::fromStdString(w.violations()[i].text).startsWith("EO-CUT")) index = i;
    }
    QVERIFY(index < w.violations().size());
    // The violation's moment is the inconsistent snapshot; once its checkpoint's metadata is
    // written (the checkpoint completes), the run so far holds the violation.
    QVERIFY(w.JumpToViolation(index));
    QVERIFY(w.NextCheckpointEnd());
    QVERIFY(w.CheckSoFar().ok());
    QVERIFY(eo_cut(*w.prefix_report())->violated());
  }

  // The checkpoint mode: a branch from time zero in another mode, at the same moment; a switch
  // that does not apply to the new mode is an error and adds no branch.
  void ChangesTheCheckpointMode() {
    MainWindow w;
    QVERIFY(w.Open(Library("backpressure_aligned.textproto"), 1).ok());
    w.SeekTime(Time::Zero() + Duration::Millis(600));
    const Time at = w.timeline()->state().now;
    QVERIFY(w.ChangeMode(scenarios::proto::Checkpointing::UNALIGNED).ok());
    QCOMPARE(w.current_branch(), 1);
    QCOMPARE(w.session()->branch(1).spec.checkpointing().mode(),
             scenarios::proto::Checkpointing::UNALIGNED);
    QVERIFY(w.timeline()->state().now <= at);
    QVERIFY(w.Reproducer().contains("mode: UNALIGNED"));
    // Unaligned barriers in this branch's flow; none in the aligned one.
    const auto unaligned = [](const Recording& r) {
      return std::count_if(r.flow.items().begin(), r.flow.items().end(), [](const FlowItem& i) {
        return i.buffer.kind == engine::BufferInfo::Kind::kBarrier && i.buffer.unaligned;
      });
    };
    QVERIFY(unaligned(*w.recording()) > 0);
    QCOMPARE(unaligned(*w.session()->branch(0).recording), 0);
    // no-alignment is a mistake of aligned checkpoints: refused in unaligned mode.
    QVERIFY(!w.ToggleSwitch("no-alignment", true).ok());
    QCOMPARE(w.session()->size(), 2);
    w.SwitchBranch(0);
    QVERIFY(w.ToggleSwitch("no-alignment", true).ok());
    const int before = w.session()->size();
    QVERIFY(!w.ChangeMode(scenarios::proto::Checkpointing::AT_LEAST_ONCE).ok());
    QCOMPARE(w.session()->size(), before);
  }

  void StepsToTheNextBarrierCheckpointAndFault() {
    MainWindow w;
    QVERIFY(w.Open(Library("rescale_4_to_2.textproto"), 1).ok());
    QVERIFY(w.NextBarrier());
    QVERIFY(w.checkpoints()->rowCount() >= 1);
    QVERIFY(w.NextCheckpointEnd());
    const CheckpointRow& first = w.checkpoints()->RowAt(0);
    QCOMPARE(first.id, int64_t{1});
    QCOMPARE(first.status, CheckpointRow::Status::kCompleted);
    QCOMPARE(w.checkpoints()->data(w.checkpoints()->index(0, CheckpointModel::kStatus)).toString(),
             QString("completed"));
    QCOMPARE(
        w.checkpoints()->data(w.checkpoints()->index(0, CheckpointModel::kAcknowledged)).toString(),
        QString("8/8"));
    QVERIFY(w.moments()->stringList().last().contains("checkpoint 1 completed"));
    // Its drill-down: every subtask's barrier, alignment, snapshot and acknowledgement.
    w.ShowCheckpoint(1);
    QCOMPARE(w.subtasks()->rowCount(), 8);
    QCOMPARE(w.subtasks()->item(0, 0)->text(), QString("source+double#0"));
    QVERIFY(w.subtasks()->item(7, 4)->text().endsWith(" ms"));
    // The space-time diagram shows its barriers (4 x 4 channels) and snapshots so far.
    QVERIFY(w.space_time()->VisibleArrows() >= 16);
    QVERIFY(w.space_time()->VisibleDots() >= 8);
    // The crash: the canvas greys the tasks of the crashed TaskManager.
    while (w.NextFault() && w.timeline()->state().nodes_down.empty()) {
    }
    QVERIFY(!w.timeline()->state().nodes_down.empty());
    bool greyed = false;
    for (const DataflowView::TaskBox& box : w.dataflow()->TaskBoxes()) greyed |= box.node_down;
    QVERIFY(greyed);
    QVERIFY(w.moments()->stringList().last().contains("crashed"));
    // Four tasks at parallelism 2 after the rescale, before the crash.
    QCOMPARE(w.dataflow()->TaskBoxes().size(), size_t{4});
  }

  void ScrubsBackAndForthToTheSameState() {
    MainWindow w;
    QVERIFY(w.Open(Library("crash_during_alignment.textproto"), 1).ok());
    const Time end = w.timeline()->end();
    const Time a = Time::Zero() + Duration::Nanos(end.nanos() / 3);
    const Time b = Time::Zero() + Duration::Nanos(end.nanos() * 4 / 5);
    w.SeekTime(a);
    const RunState at_a = w.timeline()->state();
    const int rows_at_a = w.checkpoints()->rowCount();
    const QStringList moments_at_a = w.moments()->stringList();
    w.SeekTime(b);
    QVERIFY(w.checkpoints()->rowCount() >= rows_at_a);
    w.SeekTime(a);
    QVERIFY(w.timeline()->state() == at_a);
    QCOMPARE(w.checkpoints()->rowCount(), rows_at_a);
    QCOMPARE(w.moments()->stringList(), moments_at_a);
    // The scrubber follows the time, in milliseconds.
    auto* scrubber = w.findChild<QSlider*>("scrubber");
    QVERIFY(scrubber != nullptr);
    QCOMPARE(scrubber->value(), static_cast<int>(at_a.now.nanos() / 1'000'000));
  }

  void PlaysUntilTheEnd() {
    MainWindow w;
    QVERIFY(w.Open(Library("happy_aligned.textproto"), 1).ok());
    auto* speed = w.findChild<QSlider*>("speed");
    QVERIFY(speed != nullptr);
    speed->setValue(speed->maximum());  // 100 simulated seconds a second
    w.Play();
    QVERIFY(w.playing());
    QTRY_VERIFY_WITH_TIMEOUT(!w.playing(), 60000);
    QCOMPARE(w.timeline()->state().applied, w.timeline()->size());
    QCOMPARE(w.timeline()->state().job_status, std::string("finished"));
    QCOMPARE(w.checkpoints()->rowCount(),
             static_cast<int>(w.recording()->report.checkpoints.size()));
  }

  void CopiesTheReproducer() {
    MainWindow w;
    QVERIFY(w.Open(Library("happy_aligned.textproto"), 7).ok());
    w.CopyReproducer();
    QCOMPARE(QApplication::clipboard()->text(), w.Reproducer());
    QVERIFY(w.Reproducer().contains("--seed 7"));
  }

  void BranchesAtTheMomentAndReturns() {
    MainWindow w;
    QVERIFY(w.Open(Library("rescale_4_to_2.textproto"), 1).ok());
    w.SeekTime(Time::Zero() + Duration::Millis(600));
    const Time at = w.timeline()->state().now;
    QVERIFY(w.timeline()->state().nodes_down.empty());
    // What the canvas's context menu does for "Crash TaskManager 2 (restarts after 1 s)".
    QVERIFY(
        w.BranchHere(CrashTaskManagerFault(2, Duration::Seconds(1)), "crash TaskManager 2").ok());
    QCOMPARE(w.current_branch(), 1);
    QCOMPARE(w.timeline()->state().now <= at, true);
    // The fault fires at the moment, and TaskManager 2 goes down.
    while (w.NextFault() && w.timeline()->state().nodes_down.empty()) {
    }
    QCOMPARE(w.timeline()->state().nodes_down, std::set<uint32_t>{2});
    QCOMPARE(w.timeline()->state().now, at);
    QVERIFY(w.moments()->stringList().last().contains("node 2 crashed"));
    QVERIFY(w.Reproducer().contains("faultline run branch.textproto --seed 1"));
    QVERIFY(w.Reproducer().contains("crash_task_manager"));
    auto* branches = w.findChild<QComboBox*>("branches");
    QVERIFY(branches != nullptr);
    QCOMPARE(branches->count(), 2);
    QCOMPARE(branches->currentIndex(), 1);
    // Back to the scenario as written, at the same moment: no crash there.
    w.SwitchBranch(0);
    QCOMPARE(w.current_branch(), 0);
    QVERIFY(w.timeline()->state().nodes_down.empty());
    // A teaching switch toggled: a third branch, from the one shown.
    QVERIFY(w.ToggleSwitch("offset-after-emit", true).ok());
    QCOMPARE(w.current_branch(), 2);
    QCOMPARE(w.session()->branch(2).parent, 0);
    QVERIFY(w.Reproducer().contains("--switch offset-after-emit"));
    QCOMPARE(branches->count(), 3);
  }

  void RefusesAnInvalidFile() {
    MainWindow w;
    const Status s = w.Open("/nonexistent/scenario.textproto", std::nullopt);
    QVERIFY(!s.ok());
    QVERIFY(w.recording() == nullptr);
  }
};

}  // namespace faultline::gui

QTEST_MAIN(faultline::gui::MainWindowTest)
#include "main_window_test.moc"
