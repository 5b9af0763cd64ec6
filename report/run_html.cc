// `faultline run --html`: one run's report as a page (report/html_report.h).
#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "checkers/markers.h"
#include "report/fault_windows.h"
#include "report/html_report.h"
#include "report/markup.h"
#include "report/svg_plot.h"

namespace faultline::report {
namespace {

using scenarios::CheckpointRecord;
using scenarios::RunReport;

std::string_view VerdictName(checkers::Verdict::Outcome o) {
  switch (o) {
    case checkers::Verdict::Outcome::kPass:
      return "PASS";
    case checkers::Verdict::Outcome::kFail:
      return "FAIL";
    case checkers::Verdict::Outcome::kInconclusive:
      return "INCONCLUSIVE";
  }
  return "?";
}

std::string Ms(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f ms", d.millis());
  return buf;
}

std::string Row(const std::vector<std::string>& cells) {
  std::string out = "<tr>";
  for (const std::string& c : cells) out += "<td>" + c + "</td>";
  return out + "</tr>\n";
}

// The plots' shared x axis: the run's end, or later if something was recorded after it.
double XMax(const RunReport& r) {
  double end = r.ended.seconds();
  for (const CheckpointRecord& c : r.checkpoints) end = std::max(end, c.ended.seconds());
  for (const scenarios::FaultRecord& f : r.faults) end = std::max(end, f.at.seconds());
  return end > 0 ? end : 1;
}

// The fault windows (F1, F2, ...) and recoveries (R1, ...) every time plot shows.
void AddContext(TimePlot& plot, const RunReport& r, const std::vector<FaultWindow>& windows) {
  for (size_t i = 0; i < windows.size(); ++i) {
    const FaultWindow& w = windows[i];
    plot.Band(w.start.seconds(), w.end.seconds(), "F" + std::to_string(i + 1),
              "F" + std::to_string(i + 1) + " " + w.label + ": " + w.start.ToString() + " to " +
                  w.end.ToString() + (w.open ? " (end of run)" : ""),
              {{"data-fault-window", std::to_string(i + 1)},
               {"data-key", w.key},
               {"data-start-ns", std::to_string(w.start.nanos())},
               {"data-end-ns", std::to_string(w.end.nanos())}});
  }
  for (size_t i = 0; i < r.recoveries.size(); ++i) {
    const scenarios::RecoveryRecord& rec = r.recoveries[i];
    plot.Mark(
        rec.at.seconds(), "R" + std::to_string(i + 1),
        "R" + std::to_string(i + 1) + " " + rec.at.ToString() + ": attempt " +
            std::to_string(rec.attempt) + " from " + scenarios::RestoredName(rec) + ": " +
            rec.reason,
        {{"data-recovery", std::to_string(i + 1)}, {"data-at-ns", std::to_string(rec.at.nanos())}});
  }
}

enum class Measure { kDuration, kSize };

std::string CheckpointPlot(const RunReport& r, const std::vector<FaultWindow>& windows,
                           Measure measure) {
  const bool duration = measure == Measure::kDuration;
  double y_max = 0;
  for (const CheckpointRecord& c : r.checkpoints) {
    if (c.outcome == CheckpointRecord::Outcome::kInProgress) continue;
    if (!duration && c.outcome != CheckpointRecord::Outcome::kCompleted) continue;
    y_max = std::max(
        y_max, duration ? (c.ended - c.triggered).millis() : static_cast<double>(c.state_bytes));
  }
  TimePlotOptions options;
  options.title =
      duration ? "Checkpoint duration over simulated time" : "Checkpoint size over simulated time";
  options.y_label = duration ? "duration (ms)" : "state size";
  options.x_max = XMax(r);
  options.y_max = y_max * 1.1;
  options.css_class = duration ? "checkpoint-duration" : "checkpoint-size";
  if (!duration) options.y_tick_text = [](double v) { return Bytes(v); };
  TimePlot plot(options);
  AddContext(plot, r, windows);
  for (const CheckpointRecord& c : r.checkpoints) {
    const std::string id = std::to_string(c.id);
    const Duration took = c.ended - c.triggered;
    if (c.outcome == CheckpointRecord::Outcome::kCompleted) {
      const double y = duration ? took.millis() : static_cast<double>(c.state_bytes);
      plot.Point(c.triggered.seconds(), y, PointShape::kDot,
                 "checkpoint " + id + " completed: triggered " + c.triggered.ToString() +
                     ", took " + Ms(took) + ", " + Bytes(static_cast<double>(c.state_bytes)),
                 {{"data-checkpoint", id},
                  {"data-triggered-ns", std::to_string(c.triggered.nanos())},
                  {"data-duration-ns", std::to_string(took.nanos())},
                  {"data-state-bytes", std::to_string(c.state_bytes)}});
    } else if (duration && c.outcome == CheckpointRecord::Outcome::kAborted) {
      plot.Point(c.triggered.seconds(), took.millis(), PointShape::kCross,
                 "checkpoint " + id + " aborted after " + Ms(took) + ": " + c.reason,
                 {{"data-checkpoint-aborted", id}});
    }
  }
  plot.ConnectDots();
  return plot.Svg();
}

std::string Header(const RunReport& r) {
  const std::string outcome(scenarios::OutcomeName(r.outcome));
  char hash[32];
  std::snprintf(hash, sizeof hash, "%016" PRIx64, r.trace_hash);
  std::string out = "<h1>faultline run: " + Escape(r.name) + "</h1>\n<dl class=\"head\">\n";
  auto item = [&out](std::string_view name, const std::string& html) {
    out += "<dt>" + std::string(name) + "</dt><dd>" + html + "</dd>\n";
  };
  item("scenario", "<code>" + Escape(r.path) + "</code><br>" + Escape(r.description));
  item("seed",
       std::to_string(r.seed) + (r.varied.empty() ? "" : " (varied: " + Escape(r.varied) + ")"));
  item("job", "<code>" + Escape(r.job_summary) + "</code>");
  item("world", Escape(r.world_summary));
  item("run", Escape(std::string(engine::JobStatusName(r.status))) + " at " +
                  Escape(r.ended.ToString()) + " simulated (limit " +
                  Escape(r.run_limit.ToString()) + "); " + std::to_string(r.source_records) +
                  " source records, " + std::to_string(r.committed_records) + " committed" +
                  (r.failure.empty() ? "" : "; failure: " + Escape(r.failure)));
  item("verdict", "<span class=\"" + outcome + "\" data-verdict=\"" + outcome + "\">" + outcome +
                      "</span>" +
                      (r.outcome_detail.empty() ? "" : ": " + Escape(r.outcome_detail)) +
                      "; expected " + Escape(scenarios::ExpectedString(r.expected)) +
                      (r.as_expected() ? ": as expected" : ": <b>NOT as expected</b>"));
  item("trace", "hash <code>" + std::string(hash) + "</code> over " +
                    std::to_string(r.trace_records) + " records; " + Escape(r.build_identity));
  return out + "</dl>\n";
}

std::string FaultTable(const RunReport& r, const std::vector<FaultWindow>& windows) {
  std::string out = "<h3>Faults</h3>\n";
  if (windows.empty()) return out + "<p class=\"muted\">No fault was injected or observed.</p>\n";
  out +=
      "<div class=\"scroll\"><table class=\"faults\"><tr><th>window</th><th>from</th>"
      "<th>to</th><th>fault</th><th class=\"num\">events</th></tr>\n";
  for (size_t i = 0; i < windows.size(); ++i) {
    const FaultWindow& w = windows[i];
    out += "<tr><td>F" + std::to_string(i + 1) + "</td><td>" + Escape(w.start.ToString()) +
           "</td><td>" + (w.open ? "end of run" : Escape(w.end.ToString())) + "</td><td>" +
           Escape(w.label) + "</td><td class=\"num\">" + std::to_string(w.events) + "</td></tr>\n";
  }
  out += "</table></div>\n";
  if (r.faults_dropped > 0) {
    out += "<p class=\"muted\">" + std::to_string(r.faults_dropped) +
           " later fault events were not kept in the report (and are not shown).</p>\n";
  }
  if (!r.fault_plan_unfired.empty()) {
    out += "<p>Plan entries whose trigger never fired:</p><ul>\n";
    for (const std::string& name : r.fault_plan_unfired) out += "<li>" + Escape(name) + "</li>\n";
    out += "</ul>\n";
  }
  return out;
}

std::string RecoveryTable(const RunReport& r) {
  std::string out = "<h3>Recoveries</h3>\n";
  if (r.recoveries.empty()) return out + "<p class=\"muted\">The job never restarted.</p>\n";
  out +=
      "<div class=\"scroll\"><table><tr><th>mark</th><th>at</th><th>attempt</th>"
      "<th>restored</th><th>why</th></tr>\n";
  for (size_t i = 0; i < r.recoveries.size(); ++i) {
    const scenarios::RecoveryRecord& rec = r.recoveries[i];
    out += Row({"R" + std::to_string(i + 1), Escape(rec.at.ToString()), std::to_string(rec.attempt),
                rec.has_restored && rec.restored ? scenarios::RestoredName(rec) : "from scratch",
                Escape(rec.reason)});
  }
  return out + "</table></div>\n";
}

std::string CheckpointTable(const RunReport& r) {
  std::string out = "<details><summary>Every checkpoint (" + std::to_string(r.checkpoints.size()) +
                    ")</summary>\n<div class=\"scroll\"><table><tr><th>id</th><th>outcome</th>"
                    "<th>triggered</th><th class=\"num\">took</th><th class=\"num\">size</th>"
                    "<th>note</th></tr>\n";
  for (const CheckpointRecord& c : r.checkpoints) {
    const bool ended = c.outcome != CheckpointRecord::Outcome::kInProgress;
    const std::string outcome = c.outcome == CheckpointRecord::Outcome::kCompleted ? "completed"
                                : ended                                            ? "aborted"
                                                                                   : "in progress";
    std::string note = c.final ? "final" : "";
    if (c.savepoint) note += c.stop ? "stop-with-savepoint" : "savepoint";
    if (c.alignment_timeouts > 0) {
      note += (note.empty() ? "" : "; ") + std::to_string(c.alignment_timeouts) +
              " tasks switched to unaligned";
    }
    if (!c.reason.empty()) note += (note.empty() ? "" : "; ") + c.reason;
    out += "<tr><td>" + std::to_string(c.id) + "</td><td class=\"" +
           (ended ? outcome : std::string("muted")) + "\">" + outcome + "</td><td>" +
           Escape(c.triggered.ToString()) + "</td><td class=\"num\">" +
           (ended ? Ms(c.ended - c.triggered) : "") + "</td><td class=\"num\">" +
           Bytes(static_cast<double>(c.state_bytes)) + "</td><td>" + Escape(note) + "</td></tr>\n";
  }
  return out + "</table></div></details>\n";
}

std::string EvidenceText(const checkers::Evidence& e) {
  std::string out;
  auto add = [&out](std::string_view name, const std::string& value) {
    out += (out.empty() ? "" : ", ") + std::string(name) + " " + value;
  };
  if (e.record) add("record", checkers::FormatRecordId(*e.record));
  if (e.key) add("key", *e.key);
  if (e.checkpoint_id) add("checkpoint", std::to_string(*e.checkpoint_id));
  if (e.task) add("task", std::to_string(*e.task));
  if (e.attempt) add("attempt", std::to_string(*e.attempt));
  if (!e.blob.empty()) add("blob", e.blob);
  if (!e.txn.empty()) add("transaction", e.txn);
  if (e.time) add("at", e.time->ToString());
  return out;
}

// Each checker's first violation at the simulated time its evidence names, over the faults.
std::string ViolationTimeline(const RunReport& r, const std::vector<FaultWindow>& windows) {
  std::string out = "<h2>Violations</h2>\n";
  std::string list;
  TimePlotOptions options;
  options.title = "Violation timeline";
  options.x_max = XMax(r);
  options.height = 120;
  options.css_class = "violations";
  TimePlot plot(options);
  AddContext(plot, r, windows);
  size_t timed = 0;
  for (const checkers::Verdict& v : r.verdicts) {
    if (!v.first()) continue;
    const checkers::Violation& f = *v.first();
    const std::string when = f.evidence.time ? f.evidence.time->ToString() : "time not known";
    list += "<li><b class=\"FAIL\">" + Escape(v.rule()) + "</b> at " + Escape(when) + ": " +
            Escape(f.what) +
            (v.further_violations() ? " (+" + std::to_string(v.further_violations()) + " further)"
                                    : "") +
            "</li>\n";
    if (!f.evidence.time) continue;
    ++timed;
    plot.Point(
        f.evidence.time->seconds(), 0.5, PointShape::kDiamond,
        v.rule() + " at " + when + ": " + f.what,
        {{"data-violation", v.rule()}, {"data-at-ns", std::to_string(f.evidence.time->nanos())}});
  }
  if (list.empty()) return out + "<p>No checker found a violation.</p>\n";
  if (timed > 0) out += Figure(plot.Svg());
  return out + "<ul class=\"violations\">\n" + list + "</ul>\n";
}

std::string VerdictCell(const checkers::Verdict& v) {
  if (!v.first()) return "";
  const checkers::Violation& f = *v.first();
  const std::string evidence = EvidenceText(f.evidence);
  return Escape(f.what) + (evidence.empty() ? "" : "<br><small>" + Escape(evidence) + "</small>") +
         (f.evidence.detail.empty() ? "" : "<br><small>" + Escape(f.evidence.detail) + "</small>") +
         (v.further_violations() ? "<br>+" + std::to_string(v.further_violations()) + " further"
                                 : "");
}

std::string UnjudgedCell(const checkers::Verdict& v) {
  std::string out;
  for (const checkers::UnjudgedPart& part : v.unjudged()) {
    out +=
        "<div><code>" + Escape(checkers::UnjudgedName(part.reason)) + "</code> " +
        Escape(part.detail) +
        (part.explained_by.empty() ? ""
                                   : " <i>(explained by " + Escape(part.explained_by) + ")</i>") +
        "</div>";
  }
  if (v.unjudged_dropped() > 0)
    out += "<div>+" + std::to_string(v.unjudged_dropped()) + " more</div>";
  return out;
}

std::string VerdictTable(const RunReport& r) {
  std::string out =
      "<h2>Verdicts</h2>\n<div class=\"scroll\"><table class=\"verdicts\"><tr>"
      "<th>checker</th><th>outcome</th><th>first violation</th>"
      "<th>not judged</th><th>notes</th></tr>\n";
  for (const checkers::Verdict& v : r.verdicts) {
    const std::string outcome(VerdictName(v.outcome()));
    std::string notes;
    for (const std::string& n : v.notes()) notes += "<div>" + Escape(n) + "</div>";
    out += "<tr data-checker=\"" + Escape(v.rule()) + "\"><td>" + Escape(v.rule()) +
           "</td><td class=\"" + outcome + "\">" + outcome + "</td><td>" + VerdictCell(v) +
           "</td><td>" + UnjudgedCell(v) + "</td><td>" + notes + "</td></tr>\n";
  }
  out += "</table></div>\n";
  auto list = [&out](std::string_view title, const std::vector<std::string>& items) {
    if (items.empty()) return;
    out += "<p>" + std::string(title) + "</p><ul>\n";
    for (const std::string& i : items) out += "<li>" + Escape(i) + "</li>\n";
    out += "</ul>\n";
  };
  list("Inconclusive for reasons no planned fault explains:", r.unexplained);
  list("Warnings:", r.warnings);
  return out;
}

std::string MarkerList(const RunReport& r) {
  std::string out = "<h2>Coverage markers reached</h2>\n";
  if (r.markers.empty()) return out + "<p class=\"muted\">None.</p>\n";
  out += "<ul class=\"markers\">\n";
  for (const std::string& name : r.markers) {
    const std::optional<checkers::Marker> m = checkers::MarkerFromName(name);
    out += "<li data-marker=\"" + Escape(name) + "\"><code>" + Escape(name) + "</code>" +
           (m ? ": " + Escape(checkers::MarkerDescription(*m)) : "") + "</li>\n";
  }
  return out + "</ul>\n";
}

std::string Legend() {
  return "<p class=\"legend muted\"><span><i class=\"swatch\">"
         "</i>F<i>n</i>: fault window</span><span>R<i>n</i> (dashed): recovery</span>"
         "<span>&#9679; completed checkpoint</span><span>&#10005; aborted</span></p>\n";
}

}  // namespace

std::string RunReportHtml(const RunReport& r) {
  const std::vector<FaultWindow> windows = FaultWindows(r.faults, r.ended);
  size_t completed = 0;
  for (const CheckpointRecord& c : r.checkpoints) {
    completed += c.outcome == CheckpointRecord::Outcome::kCompleted ? 1 : 0;
  }
  std::string body = Header(r);
  body += "<h2>Checkpoints over simulated time</h2>\n<p>" + std::to_string(completed) +
          " completed of " + std::to_string(r.checkpoints.size()) + " triggered; " +
          std::to_string(windows.size()) + " fault windows, " +
          std::to_string(r.recoveries.size()) + " recoveries.</p>\n" + Legend();
  body += Figure(CheckpointPlot(r, windows, Measure::kDuration));
  body += Figure(CheckpointPlot(r, windows, Measure::kSize));
  body += CheckpointTable(r) + FaultTable(r, windows) + RecoveryTable(r);
  body += ViolationTimeline(r, windows) + VerdictTable(r) + MarkerList(r);
  body += "<h2>Reproduce</h2>\n<pre><code>" + Escape(r.reproduce) + "</code></pre>\n";
  return HtmlPage("faultline run: " + r.name + " seed " + std::to_string(r.seed), body);
}

}  // namespace faultline::report
