#include "checkers/verdict.h"

#include <algorithm>
#include <array>
#include <utility>

#include "base/assert.h"

namespace faultline::checkers {

namespace {

struct ReasonInfo {
  Unjudged reason;
  std::string_view name;
  std::string_view meaning;
};

constexpr std::array kReasons = {
#define FAULTLINE_UNJUDGED_INFO(e, name, meaning) ReasonInfo{Unjudged::e, name, meaning},
    FAULTLINE_UNJUDGED_REASONS(FAULTLINE_UNJUDGED_INFO)
#undef FAULTLINE_UNJUDGED_INFO
};

const ReasonInfo& InfoOf(Unjudged reason) {
  const size_t i = static_cast<size_t>(reason);
  FL_ASSERT(i < kReasons.size() && kReasons[i].reason == reason, "unknown unjudged reason");
  return kReasons[i];
}

}  // namespace

const std::vector<Unjudged>& AllUnjudgedReasons() {
  static const std::vector<Unjudged> all = [] {
    std::vector<Unjudged> out;
    for (const ReasonInfo& info : kReasons) out.push_back(info.reason);
    return out;
  }();
  return all;
}

std::string_view UnjudgedName(Unjudged reason) {
  return InfoOf(reason).name;
}

std::string_view UnjudgedMeaning(Unjudged reason) {
  return InfoOf(reason).meaning;
}

std::optional<Unjudged> FindUnjudged(std::string_view name) {
  for (const ReasonInfo& info : kReasons) {
    if (info.name == name) return info.reason;
  }
  return std::nullopt;
}

std::string FormatRecordId(const engine::RecordId& id) {
  return "(" + std::to_string(id.source) + ", " + std::to_string(id.partition) + ", " +
         std::to_string(id.offset) + ")";
}

std::string FormatRecord(const engine::Record& record) {
  return record.key + "=" + std::to_string(record.value) + " (reflects " +
         std::to_string(record.provenance.count) + ")";
}

std::string ToString(const Violation& violation) {
  const Evidence& e = violation.evidence;
  std::string fields;
  auto add = [&fields](std::string field) {
    if (!fields.empty()) fields += " ";
    fields += std::move(field);
  };
  if (e.record) add("record=" + FormatRecordId(*e.record));
  if (e.key) add("key=" + *e.key);
  if (e.checkpoint_id) add("checkpoint=" + std::to_string(*e.checkpoint_id));
  if (e.task) add("task=" + std::to_string(*e.task));
  if (e.attempt) add("attempt=" + std::to_string(*e.attempt));
  if (!e.blob.empty()) add("blob=" + e.blob);
  if (!e.txn.empty()) add("txn=" + e.txn);
  if (e.time) add("t=" + std::to_string(e.time->nanos()) + "ns");
  std::string out = violation.what;
  if (!fields.empty()) out += " [" + fields + "]";
  if (!e.detail.empty()) out += ": " + e.detail;
  return out;
}

void Verdict::Fail(Violation violation) {
  if (first_) {
    ++further_;
    return;
  }
  first_ = std::move(violation);
}

void Verdict::Unjudge(Unjudged reason, std::string detail) {
  UnjudgeExplained(reason, std::move(detail), {});
}

void Verdict::UnjudgeExplained(Unjudged reason, std::string detail, std::string explained_by) {
  if (!Has(reason)) reasons_.push_back(reason);
  if (explained_by.empty() &&
      std::find(unexplained_.begin(), unexplained_.end(), reason) == unexplained_.end()) {
    unexplained_.push_back(reason);
  }
  if (unjudged_.size() >= kNotesMax) {
    ++unjudged_dropped_;
    return;
  }
  unjudged_.push_back(UnjudgedPart{reason, std::move(detail), std::move(explained_by)});
}

bool Verdict::Has(Unjudged reason) const {
  return std::find(reasons_.begin(), reasons_.end(), reason) != reasons_.end();
}

Verdict::Outcome Verdict::outcome() const {
  if (first_) return Outcome::kFail;
  return reasons_.empty() ? Outcome::kPass : Outcome::kInconclusive;
}

void Verdict::Note(std::string note) {
  if (notes_.size() >= kNotesMax) {
    ++notes_dropped_;
    return;
  }
  notes_.push_back(std::move(note));
}

std::string Verdict::ToString() const {
  std::string out = rule_;
  switch (outcome()) {
    case Outcome::kPass:
      out += " PASS";
      break;
    case Outcome::kFail:
      out += " FAIL: " + checkers::ToString(*first_);
      if (further_ > 0) out += " (+" + std::to_string(further_) + " further violations)";
      break;
    case Outcome::kInconclusive: {
      out += " INCONCLUSIVE (";
      for (size_t i = 0; i < reasons_.size(); ++i) {
        out += (i ? ", " : "") + std::string(UnjudgedName(reasons_[i]));
      }
      out += ")";
      break;
    }
  }
  for (const UnjudgedPart& part : unjudged_) {
    out += "\n  not judged (" + std::string(UnjudgedName(part.reason)) + "): " + part.detail;
    if (!part.explained_by.empty()) out += " [explained by " + part.explained_by + "]";
  }
  if (unjudged_dropped_ > 0) {
    out += "\n  not judged: " + std::to_string(unjudged_dropped_) + " more parts";
  }
  for (const std::string& note : notes_) out += "\n  note: " + note;
  if (notes_dropped_ > 0) out += "\n  note: " + std::to_string(notes_dropped_) + " more notes";
  return out;
}

}  // namespace faultline::checkers
