// Build identity: a trace hash is promised equal only for the same build, so it is printed
// beside every hash.
#pragma once

#include <string>
#include <string_view>

namespace faultline {

struct BuildInfo {
  std::string_view version;
  std::string_view git_commit;  // short hash, "-dirty" when built from uncommitted changes
  std::string_view compiler;
  std::string_view build_type;
};

const BuildInfo& GetBuildInfo();

// "faultline 0.1.0 (commit abc123, GNU-12.2.0, RelWithDebInfo)".
std::string BuildIdentity();

}  // namespace faultline
