#include "base/assert.h"

#include <cstdio>
#include <cstdlib>

namespace faultline::internal {

void AssertFail(const char* condition, const char* file, int line, std::string_view message) {
  std::fprintf(stderr, "%s:%d: assertion failed: %s", file, line, condition);
  if (!message.empty()) {
    std::fprintf(stderr, " (%.*s)", static_cast<int>(message.size()), message.data());
  }
  std::fputc('\n', stderr);
  std::fflush(stderr);
  std::abort();
}

}  // namespace faultline::internal
