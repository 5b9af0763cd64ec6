#include "checkers/verdict.h"

#include <utility>

namespace faultline::checkers {

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

void Verdict::Note(std::string note) {
  if (notes_.size() >= kNotesMax) {
    ++notes_dropped_;
    return;
  }
  notes_.push_back(std::move(note));
}

std::string Verdict::ToString() const {
  std::string out = rule_ + (passed() ? " PASS" : " FAIL: " + checkers::ToString(*first_));
  if (further_ > 0) out += " (+" + std::to_string(further_) + " further violations)";
  for (const std::string& note : notes_) out += "\n  note: " + note;
  if (notes_dropped_ > 0) out += "\n  note: " + std::to_string(notes_dropped_) + " more notes";
  return out;
}

}  // namespace faultline::checkers
