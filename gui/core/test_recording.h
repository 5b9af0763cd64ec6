// For gui/core's tests: a library scenario recorded in-process (the test fails, and an empty
// recording comes back, when it cannot be loaded or run).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "gui/core/recording.h"
#include "scenarios/loader.h"

namespace faultline::gui {

inline Recording RecordLibrary(const std::string& file,
                               std::optional<uint64_t> seed = std::nullopt) {
  Result<scenarios::Scenario> scenario =
      scenarios::LoadScenarioFile(std::string(FAULTLINE_SCENARIO_LIBRARY_DIR) + "/" + file);
  EXPECT_TRUE(scenario.ok()) << scenario.status().ToString();
  if (!scenario.ok()) return Recording{};
  Result<Recording> recording = RecordRun(*scenario, {.seed = seed});
  EXPECT_TRUE(recording.ok()) << recording.status().ToString();
  if (!recording.ok()) return Recording{};
  return std::move(*recording);
}

}  // namespace faultline::gui
