// What a checker returns (ORACLES.md): the rule it judged, pass or fail, and the evidence of the
// first violation it found (which record, key, checkpoint or blob broke the rule, and when in
// simulated time), with a count of the further violations so one broken run does not print a
// thousand lines.
//
// PASS is a promise (ORACLES.md): a checker that could not judge part of the run (a checkpoint
// it could not read, channel state it does not model, nothing to check, no quiet phase, ...)
// says so with a typed reason (Unjudged), and its outcome is then INCONCLUSIVE, never PASS. A
// violation outranks an unjudged part: FAIL. Notes are information only (how many duplicates
// AL-LOSS counted, the trace hash DET compared) and never change the outcome.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"
#include "engine/api/record.h"

namespace faultline::checkers {

// Where a violation shows. Every field is optional; unset fields are not printed.
struct Evidence {
  std::optional<engine::RecordId> record;
  std::optional<std::string> key;
  std::optional<uint64_t> checkpoint_id;
  std::optional<uint32_t> task;  // global task index
  std::optional<uint64_t> attempt;
  std::string blob;
  std::string txn;           // an output-store transaction
  std::optional<Time> time;  // simulated time, when the checker knows it
  std::string detail;        // expected versus found, in words
};

// Why a checker could not judge (part of) a run. Each reason has a stable kebab-case name for
// reports and JSON, and a test that reaches it.
// X(enumerator, name, meaning)
// clang-format off
#define FAULTLINE_UNJUDGED_REASONS(X)                                                              \
  X(kCheckpointSkipped,    "checkpoint-skipped",                                                  \
    "a completed checkpoint, or a subtask's state in it, could not be read or judged")             \
  X(kChannelStateNotJudged, "channel-state-not-judged",                                           \
    "in-flight records persisted as channel state were not judged")                              \
  X(kNothingToCheck,       "nothing-to-check",                                                    \
    "the run holds nothing this checker can judge (no checkpoint, no output, no transaction)")     \
  X(kNoQuietPhase,         "no-quiet-phase",                                                      \
    "the run ended before the faults had been quiet long enough to judge progress")               \
  X(kSecondRunNotMade,     "second-run-not-made",                                                 \
    "DET needs the trace hash of a second run of the same seed, scenario and build")              \
  X(kJobNotFinished,       "job-not-finished",                                                    \
    "the run ended while the job was running, restarting or failed, so its output is partial")    \
  X(kOrderUnknown,         "order-unknown",                                                       \
    "the order in which a task processed its inputs is not known, so order-dependent results "    \
    "were not replayed as the engine ran them")                                                   \
  X(kOutputUntraceable,    "output-untraceable",                                                  \
    "committed records whose provenance names no single source record, so exactly-once per "      \
    "record could not be traced")                                                                 \
  X(kRecordingIncomplete,  "recording-incomplete",                                                \
    "the recorder could not read something the checker needs")
// clang-format on

enum class Unjudged : uint8_t {
#define FAULTLINE_UNJUDGED_ENUM(e, ...) e,
  FAULTLINE_UNJUDGED_REASONS(FAULTLINE_UNJUDGED_ENUM)
#undef FAULTLINE_UNJUDGED_ENUM
};

// Every reason, in table order.
const std::vector<Unjudged>& AllUnjudgedReasons();
// "checkpoint-skipped"
std::string_view UnjudgedName(Unjudged reason);
// What the reason means, in one sentence.
std::string_view UnjudgedMeaning(Unjudged reason);
// The reason named `name`; nullopt for an unknown name.
std::optional<Unjudged> FindUnjudged(std::string_view name);

// One part of the run a checker could not judge.
struct UnjudgedPart {
  Unjudged reason = Unjudged::kNothingToCheck;
  std::string detail;  // which checkpoint, blob, task; why
  // The fault the scenario planned that explains why this part cannot be judged (a blob an
  // injected fault destroyed, a policy that fails the job after one); empty: nothing explains it,
  // which the soak counts against the engine or the checker (docs/soak.md).
  std::string explained_by;
};

struct Violation {
  std::string what;  // one sentence naming the broken property
  Evidence evidence;
};

std::string FormatRecordId(const engine::RecordId& id);  // "(source, partition, offset)"
std::string FormatRecord(const engine::Record& record);  // "key=value (reflects n)"
std::string ToString(const Violation& violation);

class Verdict {
 public:
  explicit Verdict(std::string rule) : rule_(std::move(rule)) {}

  enum class Outcome : uint8_t { kPass, kFail, kInconclusive };

  // Keeps the first violation and counts the rest.
  void Fail(Violation violation);
  // Part of the run could not be judged, for `reason`: the outcome is INCONCLUSIVE unless a
  // violation was found. Kept up to kNotesMax parts, then counted (per reason, too).
  void Unjudge(Unjudged reason, std::string detail);
  // The same, for a part that a fault the scenario planned explains (`explained_by` names it).
  void UnjudgeExplained(Unjudged reason, std::string detail, std::string explained_by);
  // Information only (never changes the outcome); kept up to kNotesMax, then counted.
  void Note(std::string note);

  const std::string& rule() const { return rule_; }
  Outcome outcome() const;
  // Judged and held: no violation and nothing left unjudged.
  bool passed() const { return outcome() == Outcome::kPass; }
  // A violation was found (whatever else could not be judged).
  bool violated() const { return first_.has_value(); }
  // Nothing was left unjudged.
  bool judged() const { return reasons_.empty(); }
  // The distinct reasons, in the order first seen, and their parts (capped at kNotesMax).
  const std::vector<Unjudged>& reasons() const { return reasons_; }
  bool Has(Unjudged reason) const;
  const std::vector<UnjudgedPart>& unjudged() const { return unjudged_; }
  uint64_t unjudged_dropped() const { return unjudged_dropped_; }
  // The reasons of unjudged parts (kept or dropped) that no planned fault explains, in the order
  // first seen.
  const std::vector<Unjudged>& unexplained() const { return unexplained_; }
  const std::optional<Violation>& first() const { return first_; }
  uint64_t further_violations() const { return further_; }
  const std::vector<std::string>& notes() const { return notes_; }
  uint64_t notes_dropped() const { return notes_dropped_; }

  // "EO-OUT PASS", "EO-OUT FAIL: <what> [record=(0, 2, 17) key=k3 ...] (+4 further)" or
  // "EO-CUT INCONCLUSIVE (checkpoint-skipped, ...)", followed by one
  // "  not judged (<reason>): ..." line per unjudged part and one "  note: ..." line per note.
  std::string ToString() const;

  static constexpr size_t kNotesMax = 16;

 private:
  std::string rule_;
  std::optional<Violation> first_;
  uint64_t further_ = 0;
  std::vector<Unjudged> reasons_;
  std::vector<UnjudgedPart> unjudged_;
  uint64_t unjudged_dropped_ = 0;
  std::vector<Unjudged> unexplained_;
  std::vector<std::string> notes_;
  uint64_t notes_dropped_ = 0;
};

}  // namespace faultline::checkers
