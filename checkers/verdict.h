// What a checker returns (ORACLES.md): the rule it judged, pass or fail, and the evidence of the
// first violation it found (which record, key, checkpoint or blob broke the rule, and when in
// simulated time), with a count of the further violations so one broken run does not print a
// thousand lines. Notes say what the checker could not judge and why (an unreadable blob, a
// mechanism it does not model yet): a pass with notes is weaker than a pass without.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
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

  // Keeps the first violation and counts the rest.
  void Fail(Violation violation);
  // Something the checker could not judge; kept up to kNotesMax, then counted.
  void Note(std::string note);

  const std::string& rule() const { return rule_; }
  bool passed() const { return !first_.has_value(); }
  const std::optional<Violation>& first() const { return first_; }
  uint64_t further_violations() const { return further_; }
  const std::vector<std::string>& notes() const { return notes_; }
  uint64_t notes_dropped() const { return notes_dropped_; }

  // "EO-OUT PASS" or "EO-OUT FAIL: <what> [record=(0, 2, 17) key=k3 ...] (+4 further)",
  // followed by one "  note: ..." line per note.
  std::string ToString() const;

  static constexpr size_t kNotesMax = 16;

 private:
  std::string rule_;
  std::optional<Violation> first_;
  uint64_t further_ = 0;
  std::vector<std::string> notes_;
  uint64_t notes_dropped_ = 0;
};

}  // namespace faultline::checkers
