// faultline-gui's frame time (issue 14: with an 8-operator x parallelism-8 job and at least
// 5 000 records in flight, the p95 of at least 600 frames is at most 16 ms, simulation advance
// included). Records bench/gui_frame_case.textproto once, finds the stretch of the run with the
// most records in flight, and plays it frame by frame as the GUI's player does: advance the
// timeline by the frame's simulated time, take the flow's frame, lay out and paint the dataflow
// canvas (1600 x 900) into an image. Prints the frame-time percentiles and, as a baseline in the
// same process, the same frames painted without what is in flight.
//
//   QT_QPA_PLATFORM=offscreen build/release/gui/gui_frame_bench [--frames N] [--scenario FILE]
#include <QApplication>
#include <QImage>
#include <QPainter>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "gui/app/dataflow_view.h"
#include "gui/core/recording.h"
#include "gui/core/timeline.h"
#include "scenarios/loader.h"

namespace faultline::gui {
namespace {

struct Summary {
  double p50 = 0, p95 = 0, max = 0;
  uint64_t min_records = 0, median_records = 0;
};

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const auto k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  return v[k];
}

// Plays `frames` frames from `from`, `step` simulated time apart; `flow` false paints the
// canvas without what is in flight (the baseline).
Summary Play(const Recording& r, Time from, Duration step, int frames, bool flow) {
  Timeline timeline(r);
  DataflowView view;
  view.SetRecording(&r);
  view.set_show_flow(flow);
  view.resize(1600, 900);
  QImage image(view.size(), QImage::Format_ARGB32_Premultiplied);
  std::vector<double> millis;
  std::vector<double> records;
  timeline.SeekTime(from);
  for (int f = 0; f < frames; ++f) {
    const auto start = std::chrono::steady_clock::now();
    timeline.SeekTime(from + step * f);  // the simulation advance
    view.SetState(timeline.state());
    QPainter painter(&image);
    view.render(&painter);
    painter.end();
    const auto end = std::chrono::steady_clock::now();
    millis.push_back(std::chrono::duration<double, std::milli>(end - start).count());
    records.push_back(static_cast<double>(view.frame().records_in_flight));
  }
  Summary s;
  s.p50 = Percentile(millis, 0.50);
  s.p95 = Percentile(millis, 0.95);
  s.max = Percentile(millis, 1.0);
  s.min_records = static_cast<uint64_t>(Percentile(records, 0.0));
  s.median_records = static_cast<uint64_t>(Percentile(records, 0.5));
  return s;
}

int Main(int argc, char** argv) {
  int frames = 600;
  std::string file = std::string(FAULTLINE_BENCH_DIR) + "/gui_frame_case.textproto";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--frames") {
      frames = std::max(1, std::atoi(argv[i + 1]));
    } else if (flag == "--scenario") {
      file = argv[i + 1];
    } else {
      std::fprintf(stderr, "usage: gui_frame_bench [--frames N] [--scenario FILE]\n");
      return 2;
    }
  }
  Result<scenarios::Scenario> scenario = scenarios::LoadScenarioFile(file);
  if (!scenario.ok()) {
    std::fprintf(stderr, "%s\n", scenario.status().ToString().c_str());
    return 2;
  }
  Result<Recording> recording = RecordRun(*scenario, {});
  if (!recording.ok()) {
    std::fprintf(stderr, "%s\n", recording.status().ToString().c_str());
    return 1;
  }
  const Recording& r = *recording;
  // The stretch with the most in flight: where the first tenth of the run's frames, sampled,
  // holds the most records; frames 60 simulated frames a second at 1/8 speed (2 ms apart).
  Timeline probe(r);
  const Duration step = Duration::Millis(2);
  const int64_t end = probe.end().nanos();
  Time from = Time::Zero();
  uint64_t best = 0;
  for (int64_t t = 0; t + step.nanos() * frames < end; t += end / 200) {
    probe.SeekTime(Time::FromNanos(t));
    const uint64_t n = r.flow.FrameAt(probe.state().now, probe.state().attempt).records_in_flight;
    if (n > best) {
      best = n;
      from = Time::FromNanos(t);
    }
  }
  const Summary base = Play(r, from, step, frames, false);
  const Summary full = Play(r, from, step, frames, true);
  std::printf("scenario      %s: %zu trace records, %zu buffers recorded\n", file.c_str(),
              r.records.size(), r.flow.items().size());
  std::printf("frames        %d from %s, %s simulated apart, canvas 1600x900\n", frames,
              from.ToString().c_str(), step.ToString().c_str());
  std::printf("in flight     min %llu, median %llu records\n",
              static_cast<unsigned long long>(full.min_records),
              static_cast<unsigned long long>(full.median_records));
  std::printf("frame time    p50 %.2f ms, p95 %.2f ms, max %.2f ms (target: p95 <= 16 ms)\n",
              full.p50, full.p95, full.max);
  std::printf("baseline      without in-flight items: p50 %.2f ms, p95 %.2f ms; ratio p95 %.2fx\n",
              base.p50, base.p95, base.p95 > 0 ? full.p95 / base.p95 : 0.0);
  return 0;
}

}  // namespace
}  // namespace faultline::gui

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  return faultline::gui::Main(argc, argv);
}
