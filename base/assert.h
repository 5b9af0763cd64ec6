// Assertions for programmer errors. They stay on in every build type (release included):
// a violated invariant in a simulator that decides correctness must stop the run, not go on.
#pragma once

#include <string_view>

namespace faultline::internal {

[[noreturn]] void AssertFail(const char* condition, const char* file, int line,
                             std::string_view message);

}  // namespace faultline::internal

// FL_ASSERT(condition) or FL_ASSERT(condition, "why it must hold").
#define FL_ASSERT(condition, ...)                                                        \
  do {                                                                                   \
    if (!(condition)) [[unlikely]] {                                                     \
      ::faultline::internal::AssertFail(#condition, __FILE__, __LINE__, "" __VA_ARGS__); \
    }                                                                                    \
  } while (false)

#define FL_UNREACHABLE(message) \
  ::faultline::internal::AssertFail("unreachable", __FILE__, __LINE__, message)
