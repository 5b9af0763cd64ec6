// The regression corpus (tests/regressions/*.textproto): minimized reproducers of what the
// generated-case property found, each replayed to the verdict its `expect` names.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "scenarios/loader.h"
#include "scenarios/runner.h"

namespace faultline {
namespace {

std::vector<std::string> CorpusFiles() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(FAULTLINE_REGRESSIONS_DIR)) {
    if (entry.path().extension() == ".textproto") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class RegressionTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RegressionTest, ReachesItsExpectedVerdict) {
  auto scenario = scenarios::LoadScenarioFile(GetParam());
  ASSERT_TRUE(scenario.ok()) << scenario.status().ToString();
  auto report = scenarios::RunScenario(*scenario, {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->as_expected()) << scenarios::FormatReport(*report);
  EXPECT_TRUE(report->fault_plan_unfired.empty()) << scenarios::FormatReport(*report);
  // An expected INCONCLUSIVE is one the planned faults explain (as the property requires).
  EXPECT_TRUE(report->unexplained.empty()) << scenarios::FormatReport(*report);
}

TEST(RegressionCorpus, IsNotEmpty) {
  EXPECT_FALSE(CorpusFiles().empty());
}

INSTANTIATE_TEST_SUITE_P(Corpus, RegressionTest, ::testing::ValuesIn(CorpusFiles()),
                         [](const auto& param_info) {
                           std::string name =
                               std::filesystem::path(param_info.param).stem().string();
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace faultline
