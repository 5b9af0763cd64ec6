// The page shell shared by the run and exploration reports: the style sheet, phone and print.
#include "report/html_report.h"
#include "report/markup.h"

namespace faultline::report {
namespace {

constexpr const char* kStyle = R"css(
:root { --fg: #1d2330; --muted: #5b6475; --line: #d5d9e2; --pass: #1f7a3a; --fail: #b3261e;
  --warn: #9a6200; --band: #e8590c; --accent: #2f5fb3; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
  margin: 0 auto; padding: 12px 16px 40px; max-width: 980px; }
h1 { font-size: 1.35em; margin: 0.4em 0; overflow-wrap: anywhere; }
h2 { font-size: 1.1em; margin: 1.6em 0 0.5em; border-bottom: 1px solid var(--line); }
p, li { overflow-wrap: anywhere; }
code, pre { font: 13px/1.4 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
pre { background: #f4f6fa; border: 1px solid var(--line); padding: 8px 10px;
  white-space: pre-wrap; overflow-wrap: anywhere; }
dl.head { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; }
dl.head dt { color: var(--muted); }
dl.head dd { margin: 0; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 0.93em; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid var(--line);
  overflow-wrap: break-word; }
th { background: #f4f6fa; }
td.num, th.num { text-align: right; white-space: nowrap; }
.PASS, .CLEAN, .completed { color: var(--pass); font-weight: 600; }
.VIOLATION, .FAIL, .FAILING, .ERROR { color: var(--fail); font-weight: 600; }
.INCONCLUSIVE, .aborted { color: var(--warn); font-weight: 600; }
.muted { color: var(--muted); }
.plotwrap { overflow-x: auto; }
svg.plot { width: 100%; height: auto; display: block; margin: 4px 0 10px; }
svg.plot text { font: 11px sans-serif; fill: var(--muted); }
svg.plot .axis line { stroke: #8a93a5; }
svg.plot .axis line.grid { stroke: #eceef3; }
svg.plot text.yt { text-anchor: end; dominant-baseline: middle; }
svg.plot text.xt { text-anchor: middle; }
svg.plot text.xl { text-anchor: end; }
svg.plot .band rect { fill: var(--band); fill-opacity: 0.16; }
svg.plot .band text { fill: var(--band); font-weight: 600; }
svg.plot .mark line { stroke: var(--accent); stroke-dasharray: 4 3; stroke-width: 1.5; }
svg.plot .mark text { fill: var(--accent); font-weight: 600; }
svg.plot .dot { fill: var(--accent); }
svg.plot .line { fill: none; stroke: var(--accent); stroke-opacity: 0.45; stroke-width: 1.2; }
svg.plot .cross { stroke: var(--warn); stroke-width: 2; fill: none; }
svg.plot .diamond { fill: var(--fail); }
svg.plot .bar rect { fill: var(--accent); }
svg.plot .bar rect.track { fill: #eceef3; }
svg.plot text.bl { text-anchor: end; dominant-baseline: middle; fill: var(--fg); }
svg.plot text.bv { dominant-baseline: middle; }
.legend span { margin-right: 14px; white-space: nowrap; }
.swatch { background: #e8590c44; display: inline-block; width: 12px; height: 12px; vertical-align: -1px; margin-right: 4px; }
@media (max-width: 600px) {
  body { font-size: 14px; padding: 8px; }
  dl.head { grid-template-columns: 1fr; }
  dl.head dt { margin-top: 6px; }
  table { min-width: 560px; }
  svg.plot { min-width: 600px; }
  svg.plot text { font-size: 13px; }
}
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  h2 { break-after: avoid; }
  svg.plot, tr, pre { break-inside: avoid; }
  .scroll { overflow: visible; }
  a { color: inherit; text-decoration: none; }
}
)css";

}  // namespace

std::string HtmlPage(const std::string& title, const std::string& body) {
  return std::string("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n") +
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n" +
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
         "style-src 'unsafe-inline'; img-src data:\">\n" +
         "<meta name=\"generator\" content=\"faultline\">\n<title>" + Escape(title) +
         "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n" + body + "</body>\n</html>\n";
}

}  // namespace faultline::report
