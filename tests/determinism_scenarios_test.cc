// Determinism of engine jobs: every library scenario, run twice in this process and once by the
// faultline command in a separate process (its own address space, allocator and start-up), gives
// one trace hash; another seed gives another. The kernel's demo world has the same test in
// determinism_test.cc; tests/golden/trace_hashes.txt pins the hashes across commits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "scenarios/loader.h"
#include "scenarios/runner.h"
#include "tests/support/library_files.h"

namespace faultline {
namespace {

constexpr uint64_t kSeed = 5;

std::vector<std::string> LibraryFiles() {
  return testing_support::LibraryFiles(FAULTLINE_SCENARIO_LIBRARY_DIR);
}

// The hash `faultline run FILE --seed SEED` prints on its "trace" line; 0 when none.
uint64_t HashFromSeparateProcess(const std::string& file, uint64_t seed) {
  const std::string command = std::string(FAULTLINE_CLI_PATH) + " run '" + file + "' --seed " +
                              std::to_string(seed) + " 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (pipe == nullptr) return 0;
  char line[4096];
  uint64_t hash = 0;
  while (std::fgets(line, sizeof line, pipe.get()) != nullptr) {
    const std::string text(line);
    if (text.rfind("trace ", 0) != 0) continue;
    const size_t at = text.find("hash ");
    if (at != std::string::npos) hash = std::stoull(text.substr(at + 5), nullptr, 16);
  }
  return hash;
}

class ScenarioDeterminismTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ScenarioDeterminismTest, SameHashInProcessAndInASeparateProcess) {
  auto scenario = scenarios::LoadScenarioFile(GetParam());
  ASSERT_TRUE(scenario.ok()) << scenario.status().ToString();
  scenarios::RunOptions options;
  options.seed = kSeed;
  auto first = scenarios::RunScenario(*scenario, options);
  auto second = scenarios::RunScenario(*scenario, options);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_GT(first->trace_records, 0u);
  EXPECT_EQ(first->trace_hash, second->trace_hash) << "diverged in-process";
  EXPECT_EQ(first->trace_records, second->trace_records);
  EXPECT_EQ(first->trace_hash, HashFromSeparateProcess(GetParam(), kSeed))
      << "diverged in a separate process";
  options.seed = kSeed + 1;
  auto other = scenarios::RunScenario(*scenario, options);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(first->trace_hash, other->trace_hash) << "another seed, the same run";
}

INSTANTIATE_TEST_SUITE_P(Library, ScenarioDeterminismTest, ::testing::ValuesIn(LibraryFiles()),
                         [](const auto& param_info) {
                           return testing_support::LibraryTestName(param_info.param);
                         });

}  // namespace
}  // namespace faultline
