#include <string>

#include "base/build_info.h"

namespace faultline {

std::string BuildIdentity() {
  const BuildInfo& info = GetBuildInfo();
  std::string out = "faultline ";
  out += info.version;
  out += " (commit ";
  out += info.git_commit;
  out += ", ";
  out += info.compiler;
  out += ", ";
  out += info.build_type;
  out += ")";
  return out;
}

}  // namespace faultline
