// Every checker of ORACLES.md, listed in one place: its id, the function that judges a run, the
// checkpointing modes it runs in by default and may run in at all, whether it needs a
// two-phase-commit sink. The checker library (RunChecker, DefaultCheckers), the scenario loader
// (validating a scenario's `checkers:` list) and the runner (defaults) all read this table; a
// new checker is a row here plus its function. No verdict is softened after the fact: ORACLES.md's
// "expected degradation" is judged inside the checkers (checkers/degradation.h).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/exec/config.h"

namespace faultline::checkers {

struct RunRecord;
class Verdict;

// Bits of engine::CheckpointMode, for the mode columns.
enum ModeMask : uint8_t {
  kNoMode = 0,
  kAligned = 1u << 0,
  kUnaligned = 1u << 1,
  kAtLeastOnce = 1u << 2,
  kExactlyOnceModes = kAligned | kUnaligned,
  kEveryMode = kAligned | kUnaligned | kAtLeastOnce,
};
constexpr uint8_t MaskOf(engine::CheckpointMode mode) {
  switch (mode) {
    case engine::CheckpointMode::kAligned:
      return kAligned;
    case engine::CheckpointMode::kUnaligned:
      return kUnaligned;
    case engine::CheckpointMode::kAtLeastOnce:
      return kAtLeastOnce;
  }
  return kNoMode;
}

class Derived;
// `derived`: what the checkers of one batch share (checkers/derived.h); null: each its own.
using CheckFunction = Verdict (*)(const RunRecord& run, Derived* derived);

// The judging functions (checker.cc and its neighbours).
Verdict CheckExactlyOnceOutputRule(const RunRecord& run, Derived* derived = nullptr);  // EO-OUT
Verdict CheckConsistentCutsRule(const RunRecord& run, Derived* derived = nullptr);     // EO-CUT
Verdict CheckAtLeastOnce(const RunRecord& run, Derived* derived = nullptr);            // AL-LOSS
Verdict CheckDurability(const RunRecord& run, Derived* derived = nullptr);             // DUR
Verdict CheckRecovery(const RunRecord& run, Derived* derived = nullptr);               // REC
Verdict CheckTransactions(const RunRecord& run, Derived* derived = nullptr);           // TXN
Verdict CheckLiveness(const RunRecord& run, Derived* derived = nullptr);               // LIVE
Verdict CheckDeterminism(const RunRecord& run, Derived* derived = nullptr);            // DET

// X(enumerator, id, function, default modes, allowed modes, needs a 2PC sink, what)
// DET runs by default in no mode: it costs a second run of the scenario (the determinism tests
// run it over the whole library; list it in a scenario to have it judged).
// clang-format off
#define FAULTLINE_CHECKERS(X)                                                                     \
  X(kEoOut,  "EO-OUT",  CheckExactlyOnceOutputRule, kExactlyOnceModes, kExactlyOnceModes, false,  \
    "the committed output is exactly once and equals the reference's")                            \
  X(kEoCut,  "EO-CUT",  CheckConsistentCutsRule,    kExactlyOnceModes, kExactlyOnceModes, false,  \
    "every completed checkpoint is a consistent cut")                                             \
  X(kAlLoss, "AL-LOSS", CheckAtLeastOnce,           kAtLeastOnce,      kEveryMode,        false,  \
    "no input record's effect is lost (duplicates allowed)")                                      \
  X(kDur,    "DUR",     CheckDurability,            kEveryMode,        kEveryMode,        false,  \
    "a completed checkpoint stays readable")                                                      \
  X(kRec,    "REC",     CheckRecovery,              kEveryMode,        kEveryMode,        false,  \
    "recovery restores the latest completed checkpoint, exactly")                                 \
  X(kTxn,    "TXN",     CheckTransactions,          kEveryMode,        kEveryMode,        true,   \
    "two-phase-commit transactions are committed once, in order, by their owner")                 \
  X(kLive,   "LIVE",    CheckLiveness,              kEveryMode,        kEveryMode,        false,  \
    "after the faults stop, checkpoints complete, records commit and the job finishes")          \
  X(kDet,    "DET",     CheckDeterminism,           kNoMode,           kEveryMode,        false,  \
    "the same seed, scenario and build give the same trace hash")
// clang-format on

enum class CheckerId : uint8_t {
#define FAULTLINE_CHECKER_ENUM(e, ...) e,
  FAULTLINE_CHECKERS(FAULTLINE_CHECKER_ENUM)
#undef FAULTLINE_CHECKER_ENUM
};

struct CheckerInfo {
  CheckerId id;
  std::string_view name;  // "EO-OUT"
  CheckFunction check;
  uint8_t default_modes;  // ModeMask: runs when a scenario lists no checkers
  uint8_t allowed_modes;  // ModeMask: may be listed at all
  bool needs_two_phase_sink;
  std::string_view summary;
};

inline constexpr std::array kCheckers = {
#define FAULTLINE_CHECKER_INFO(e, name, fn, defaults, allowed, two_phase, summary) \
  CheckerInfo{CheckerId::e, name, &fn, defaults, allowed, two_phase, summary},
    FAULTLINE_CHECKERS(FAULTLINE_CHECKER_INFO)
#undef FAULTLINE_CHECKER_INFO
};

// The row of `name` ("EO-OUT"); null for an unknown one.
const CheckerInfo* FindChecker(std::string_view name);
// "EO-OUT, EO-CUT, ...": for error messages.
std::string CheckerNames();
// The checkers a run of `mode` gets when its scenario lists none, in table order.
std::vector<std::string> DefaultCheckers(engine::CheckpointMode mode, bool has_two_phase_sink);
// Why `info` cannot judge a run of `mode` (with or without a two-phase-commit sink); empty when
// it can.
std::string WhyNotApplicable(const CheckerInfo& info, engine::CheckpointMode mode,
                             bool has_two_phase_sink);

}  // namespace faultline::checkers
