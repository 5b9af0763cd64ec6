// Export of a trace to Chrome Trace Event Format JSON, which Perfetto (ui.perfetto.dev) and
// chrome://tracing open: one track (process) per node, every record a zero-length slice with
// its named arguments, and each delivered message a flow arrow from its send to its delivery.
#pragma once

#include <string>
#include <vector>

#include "simulator/trace.h"

namespace faultline::sim {

// `node_names[i]` labels node i's track; world-level records go to a "world" track.
std::string ToChromeTraceJson(const std::vector<TraceRecord>& records,
                              const std::vector<std::string>& node_names);

// JSON string escaping (quotes, backslashes, control characters).
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace faultline::sim
