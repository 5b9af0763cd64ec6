// faultline-gui FILE [--seed N] | faultline-gui --lesson ID [--step K]: runs a scenario (a library
// scenario, a reproducer `faultline explore` wrote) in-process and shows it; see gui/README.md.
#include <QApplication>
#include <QCommandLineParser>
#include <QMessageBox>
#include <iostream>
#include <optional>

#include "gui/app/main_window.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName("faultline-gui");
  QCommandLineParser parser;
  parser.setApplicationDescription(
      "Watch a faultline scenario run: barriers, checkpoints, faults and recovery.");
  parser.addHelpOption();
  parser.addPositionalArgument(
      "scenario", "a scenario file (.textproto), or a directory `faultline run --export` wrote",
      "[FILE|DIR]");
  QCommandLineOption lesson_option("lesson", "start this guided lesson (see the Lessons menu)",
                                   "ID");
  parser.addOption(lesson_option);
  QCommandLineOption step_option("step", "with --lesson: go on to this step (1 is the first)", "K");
  parser.addOption(step_option);
  QCommandLineOption seed_option("seed", "the seed to run (default: the scenario's)", "N");
  parser.addOption(seed_option);
  QCommandLineOption at_option("at", "show the run at this simulated time", "SECONDS");
  parser.addOption(at_option);
  QCommandLineOption screenshot_option(
      "screenshot", "render the window to this PNG file and exit (with QT_QPA_PLATFORM=offscreen)",
      "FILE");
  parser.addOption(screenshot_option);
  QCommandLineOption tab_option("tab", "show this tab (Checkpoints, Space-time, Moments, Verdicts)",
                                "TITLE");
  parser.addOption(tab_option);
  QCommandLineOption checkpoint_option("checkpoint", "show this checkpoint's subtasks", "ID");
  parser.addOption(checkpoint_option);
  QCommandLineOption inspect_option("inspect", "inspect this subtask (the Inspector tab)", "TASK");
  parser.addOption(inspect_option);
  QCommandLineOption compare_option(
      "compare-seed", "compare the run with the same scenario at this seed (the Compare tab)", "N");
  parser.addOption(compare_option);
  parser.process(app);

  faultline::gui::MainWindow window;
  const QStringList files = parser.positionalArguments();
  if (parser.isSet(lesson_option)) {
    if (faultline::Status s = window.StartLesson(parser.value(lesson_option)); !s.ok()) {
      std::cerr << "faultline-gui: " << s.ToString() << "; the lessons are:";
      for (const faultline::gui::Lesson& lesson : faultline::gui::Lessons()) {
        std::cerr << " " << lesson.id;
      }
      std::cerr << "\n";
      return 2;
    }
    const int step = parser.isSet(step_option) ? parser.value(step_option).toInt() : 1;
    for (int k = 1; k < step; ++k) {
      if (!window.NextLessonStep()) break;
    }
  } else if (!files.isEmpty()) {
    std::optional<uint64_t> seed;
    if (parser.isSet(seed_option)) {
      bool ok = false;
      seed = parser.value(seed_option).toULongLong(&ok);
      if (!ok) {
        std::cerr << "faultline-gui: --seed needs a number, got "
                  << parser.value(seed_option).toStdString() << "\n";
        return 2;
      }
    }
    if (faultline::Status s = window.Open(files.front(), seed); !s.ok()) {
      std::cerr << "faultline-gui: " << s.ToString() << "\n";
      return 1;
    }
    if (parser.isSet(compare_option)) {
      bool ok = false;
      const uint64_t other = parser.value(compare_option).toULongLong(&ok);
      if (!ok) {
        std::cerr << "faultline-gui: --compare-seed needs a number\n";
        return 2;
      }
      if (faultline::Status s = window.CompareWithSeed(other); !s.ok()) {
        std::cerr << "faultline-gui: " << s.ToString() << "\n";
        return 1;
      }
    }
    if (parser.isSet(at_option)) {
      bool ok = false;
      const double at = parser.value(at_option).toDouble(&ok);
      if (!ok || at < 0) {
        std::cerr << "faultline-gui: --at needs a time in seconds, got "
                  << parser.value(at_option).toStdString() << "\n";
        return 2;
      }
      window.SeekTime(faultline::Time::Zero() +
                      faultline::Duration::Nanos(static_cast<int64_t>(at * 1e9)));
    }
  }
  if (parser.isSet(inspect_option)) window.InspectTask(parser.value(inspect_option));
  if (parser.isSet(tab_option) && !window.ShowTab(parser.value(tab_option))) {
    std::cerr << "faultline-gui: no tab " << parser.value(tab_option).toStdString() << "\n";
    return 2;
  }
  if (parser.isSet(checkpoint_option)) {
    window.ShowCheckpoint(parser.value(checkpoint_option).toLongLong());
  }
  window.show();
  if (parser.isSet(screenshot_option)) {
    const QString path = parser.value(screenshot_option);
    if (!window.grab().save(path, "PNG")) {
      std::cerr << "faultline-gui: cannot write " << path.toStdString() << "\n";
      return 1;
    }
    return 0;
  }
  return QApplication::exec();
}
