#include "checkers/eo_cut.h"

#include <algorithm>
#include <charconv>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <tuple>
#include <utility>

#include "base/hash.h"
#include "checkers/channel_state.h"
#include "checkers/cut_reference.h"
#include "checkers/derived.h"
#include "checkers/history.h"
#include "checkers/incremental_state.h"
#include "checkers/key_groups.h"
#include "checkers/keyed_state.h"
#include "checkers/reference.h"
#include "checkers/sent_metadata.h"
#include "checkers/stored_message.h"
#include "engine/proto/checkpoint.pb.h"

namespace faultline::checkers {
namespace {

using engine::Record;
namespace proto = engine::proto;

constexpr std::string_view kMetadataPrefix = "checkpoints/chk-";
constexpr std::string_view kSavepointMetadataPrefix = "savepoints/sp-";
constexpr std::string_view kMetadataSuffix = "/_metadata";

// The whole of `text` as a decimal number; nullopt when it is not one or overflows.
std::optional<uint64_t> ParseDecimal(std::string_view text) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// One version of a metadata blob the engine wrote.
struct MetadataVersion {
  uint64_t id = 0;
  std::string name;
  const Bytes* bytes = nullptr;
};

// Every metadata version the engine sent (deleted ones included), by checkpoint id.
std::vector<MetadataVersion> MetadataVersions(const SentBlobs& sent) {
  std::vector<MetadataVersion> out;
  // Savepoints too: a savepoint's state is the reference's at its cut as a checkpoint's is (ids
  // are unique across both).
  for (const std::string_view prefix : {kMetadataPrefix, kSavepointMetadataPrefix}) {
    for (const SentBlobs::Version& v : sent.Versions(prefix)) {
      const std::string_view name = v.name;
      if (!name.ends_with(kMetadataSuffix)) continue;
      const std::optional<uint64_t> id = ParseDecimal(
          name.substr(prefix.size(), name.size() - prefix.size() - kMetadataSuffix.size()));
      if (id) out.push_back(MetadataVersion{*id, std::string(name), v.bytes});
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const MetadataVersion& a, const MetadataVersion& b) { return a.id < b.id; });
  return out;
}

// The attempt in ".../attempt-<A>/keyed", if the name has one.
std::optional<uint64_t> AttemptOfBlob(std::string_view blob) {
  constexpr std::string_view kMarker = "/attempt-";
  const size_t at = blob.rfind(kMarker);
  if (at == std::string_view::npos) return std::nullopt;
  const std::string_view rest = blob.substr(at + kMarker.size());
  return ParseDecimal(rest.substr(0, rest.find('/')));
}

const proto::OperatorState* OperatorNamed(const proto::CheckpointMetadata& metadata,
                                          std::string_view id) {
  for (const proto::OperatorState& op : metadata.operators()) {
    if (op.operator_id() == id) return &op;
  }
  return nullptr;
}

// The first record of `a` with no counterpart in `b` (as multisets of key, value, provenance).
std::optional<Record> FirstNotIn(const std::vector<Record>& a, const std::vector<Record>& b) {
  using Identity = std::tuple<std::string, int64_t, uint64_t, uint64_t>;
  std::map<Identity, uint64_t> left;
  for (const Record& r : b) {
    ++left[{r.key, r.value, r.provenance.count, r.provenance.hash_sum}];
  }
  for (const Record& r : a) {
    uint64_t& n = left[{r.key, r.value, r.provenance.count, r.provenance.hash_sum}];
    if (n == 0) return r;
    --n;
  }
  return std::nullopt;
}

// A record a checkpoint persisted in flight: not yet through operator `enters` onward.
struct InFlightRecord {
  uint32_t enters = 0;
  uint32_t task = 0;  // the subtask that persisted it
  Record record;
};

// One key of a keyed operator in the reference at a cut.
struct KeyAtCut {
  std::string_view key;
  uint32_t subtask = 0;  // the subtask the engine's routing gives it
  const KeyState* state = nullptr;
  const std::optional<KeyDigest>* digest = nullptr;  // DigestOf(group, key, *state), if kept
};

// A keyed operator's reference at a cut: from a full run (`run`), or from the checker's
// CutReference (`incremental`, valid until the next cut).
struct OperatorAtCut {
  std::shared_ptr<const ReferenceResult> run;
  const CutReference* incremental = nullptr;
  std::vector<KeyAtCut> keys;
};

// One checkpoint under check.
struct Cut {
  uint64_t id = 0;
  const proto::CheckpointMetadata* metadata = nullptr;
  // The plan generation the attempt that took it ran (CheckpointMetadata.plan_generation): its
  // job's parallelisms place keys on subtasks, its plan numbers the tasks.
  const engine::JobGraph* job = nullptr;
  const engine::ExecutionPlan* plan = nullptr;
  // The histories up to the checkpoint; the per-key `order` only when a full run needs it.
  std::optional<KeyedOrders> orders;
  // Keyed operator -> the reference over the records before the cut, less those the checkpoint
  // persisted in flight upstream of the operator: its state at the barrier.
  std::map<uint32_t, OperatorAtCut> reference;
};

// One subtask's keyed state under check.
struct SubtaskCut {
  uint32_t op = 0;
  uint32_t task = 0;
  std::string blob;
  const Bytes* bytes = nullptr;  // the blob as the engine wrote it
  Evidence where;                // checkpoint, task, attempt, blob, snapshot time
  std::string checksum_note;     // set when the blob no longer matches its handle
};

class CutChecker {
 public:
  CutChecker(const RunView& run, const SourceIndex& index, Verdict& verdict)
      : run_(run),
        setup_(*run.setup),
        verdict_(verdict),
        sent_(run),
        index_(index),
        reference_(setup_.job),
        source_runs_(SourceRuns(run.sources)) {
    for (uint32_t op = 0; op < setup_.job.operators.size(); ++op) {
      if (setup_.job.operators[op].kind != engine::OperatorKind::kKeyedProcess) continue;
      if (!run.rescaled_attempts.empty()) {
        // A rescaled run's histories are followed per key group (OrdersOf), not per task as the
        // incremental reference gathers them: every keyed operator replays from scratch.
        full_runs_ = true;
      } else if (!incremental_) {
        incremental_ = std::make_unique<CutReference>(setup_, run.sources, index, op);
        first_keyed_ = op;
      } else {
        full_runs_ = true;
      }
    }
  }

  void Check(const MetadataVersion& version);

 private:
  Result<std::map<uint32_t, uint64_t>> SourceOffsets(const proto::CheckpointMetadata& m) const;
  // A run of RunView::sources of one partition: [first, last).
  struct SourceRun {
    uint32_t partition = 0;
    uint32_t first = 0;
    uint32_t last = 0;
    uint64_t first_offset = 0;
    bool consecutive = true;  // offsets first_offset, first_offset + 1, ...
  };
  static std::vector<SourceRun> SourceRuns(const std::vector<SourceRecord>& sources);
  CutReference::SourceRanges RecordsBefore(const std::map<uint32_t, uint64_t>& offsets,
                                           uint64_t id);
  Result<std::vector<InFlightRecord>> InFlight(const Cut& cut) const;
  Status ReadChannelState(const proto::ChannelStateHandle& handle, uint32_t task, uint32_t enters,
                          std::vector<InFlightRecord>& out) const;
  bool ReferenceRuns(Cut& cut, const std::map<uint32_t, uint64_t>& offsets,
                     const std::vector<InFlightRecord>& in_flight);
  std::shared_ptr<const ReferenceResult> FullRun(const Cut& cut,
                                                 const CutReference::SourceRanges& before,
                                                 const std::vector<InFlightRecord>& in_flight);
  void StrayInFlight(const Cut& cut, uint32_t op, const Record& r, bool order_known);
  std::vector<Record> Logged(const Cut& cut, uint32_t op, const std::string& key) const;
  std::optional<KeyedOrders> OrdersUpTo(const Cut& cut, bool per_key);
  void CheckChain(const Cut& cut, uint32_t chain);
  void CheckSubtask(const Cut& cut, uint32_t op, const proto::SubtaskState& sub);
  std::optional<SubtaskCut> Locate(const Cut& cut, uint32_t op, const proto::SubtaskState& sub);
  bool MatchesByDigest(const SubtaskCut& at, const engine::OperatorSpec& spec, uint32_t subtask,
                       const std::vector<const KeyAtCut*>& expected);
  void CompareKey(const Cut& cut, const SubtaskCut& at, const std::string& key,
                  const KeySnapshot* got, const KeyState* want);
  std::optional<engine::RecordId> Culprit(const Cut& cut, uint32_t op, const std::string& key,
                                          const engine::Provenance& got,
                                          const engine::Provenance& want, std::string& why) const;

  const RunView& run_;
  const engine::JobSetup& setup_;
  Verdict& verdict_;
  const SentBlobs sent_;
  std::map<std::string, Bytes> converted_;  // incremental handles read as keyed blobs
  const SourceIndex& index_;
  const Reference reference_;
  const std::vector<SourceRun> source_runs_;
  // The first keyed operator's reference, extended from cut to cut.
  std::unique_ptr<CutReference> incremental_;
  uint32_t first_keyed_ = 0;
  bool full_runs_ = false;  // a later keyed operator: replayed from scratch at every cut
};

void CutChecker::Check(const MetadataVersion& version) {
  const uint64_t id = version.id;
  const std::string where = "checkpoint " + std::to_string(id) + ": ";
  Result<proto::CheckpointMetadata> metadata =
      ReadMetadataBlob(*version.bytes, "checkpoint metadata blob " + version.name);
  if (!metadata.ok()) {
    verdict_.Unjudge(Unjudged::kCheckpointSkipped,
                     where + "metadata unreadable: " + metadata.status().ToString());
    return;
  }
  if (metadata->mode() == proto::AT_LEAST_ONCE) {
    verdict_.Unjudge(Unjudged::kCheckpointSkipped,
                     where + "taken in at-least-once mode, not a consistent cut by design");
    return;
  }
  Result<std::map<uint32_t, uint64_t>> offsets = SourceOffsets(*metadata);
  if (!offsets.ok()) {
    verdict_.Unjudge(Unjudged::kCheckpointSkipped,
                     where + "source offsets unreadable: " + offsets.status().ToString());
    return;
  }
  const uint32_t generation = metadata->plan_generation();
  if (generation >= setup_.generations()) {
    verdict_.Unjudge(Unjudged::kCheckpointSkipped, where + "taken at plan generation " +
                                                       std::to_string(generation) +
                                                       ", which the job does not have");
    return;
  }
  Cut cut;
  cut.id = id;
  cut.metadata = &*metadata;
  cut.job = &setup_.JobOf(generation);
  cut.plan = &setup_.PlanOf(generation);
  Result<std::vector<InFlightRecord>> in_flight = InFlight(cut);
  if (!in_flight.ok()) {
    verdict_.Unjudge(Unjudged::kChannelStateNotJudged,
                     where + "channel state unreadable: " + in_flight.status().ToString());
    return;
  }
  // Per-key orders for a run from scratch: keyed operators after the first, or values in flight.
  cut.orders = OrdersUpTo(cut, full_runs_ || !in_flight->empty());
  if (!ReferenceRuns(cut, *offsets, *in_flight)) return;
  for (uint32_t c = 0; c < cut.plan->chains.size(); ++c) CheckChain(cut, c);
}

Result<std::map<uint32_t, uint64_t>> CutChecker::SourceOffsets(
    const proto::CheckpointMetadata& m) const {
  if (OperatorNamed(m, setup_.plan.chains.front().name) == nullptr) {
    return DataLossError("no state for the source operator");
  }
  FL_ASSIGN_OR_RETURN(SourceCut cut, SourceCutOf(sent_, m));
  return std::move(cut.offsets);
}

// The source records (as ranges of RunView::sources indices) before the cut: in each partition's
// run of records, those with an offset below the partition's.
CutReference::SourceRanges CutChecker::RecordsBefore(const std::map<uint32_t, uint64_t>& offsets,
                                                     uint64_t id) {
  CutReference::SourceRanges before;
  const auto include = [&before](uint32_t first, uint32_t last) {
    if (first == last) return;
    if (!before.empty() && before.back().second == first) {
      before.back().second = last;
    } else {
      before.emplace_back(first, last);
    }
  };
  std::set<uint32_t> uncovered;
  for (const SourceRun& run : source_runs_) {
    auto offset = offsets.find(run.partition);
    if (offset == offsets.end()) {
      uncovered.insert(run.partition);
    } else if (run.consecutive) {  // offsets first_offset, first_offset + 1, ...
      const uint64_t n = offset->second > run.first_offset ? offset->second - run.first_offset : 0;
      include(run.first, static_cast<uint32_t>(std::min<uint64_t>(run.first + n, run.last)));
    } else {
      for (uint32_t i = run.first; i < run.last; ++i) {
        if (run_.sources[i].id.offset < offset->second) include(i, i + 1);
      }
    }
  }
  for (uint32_t partition : uncovered) {
    Evidence e;
    e.checkpoint_id = id;
    e.detail = "partition " + std::to_string(partition) + " has records but no recorded offset";
    verdict_.Fail(Violation{"a checkpoint's cut does not cover every source partition", e});
  }
  return before;
}

// The sources' runs of one partition (RunView::sources comes partition by partition).
std::vector<CutChecker::SourceRun> CutChecker::SourceRuns(
    const std::vector<SourceRecord>& sources) {
  FL_ASSERT(sources.size() < UINT32_MAX, "too many source records");
  std::vector<SourceRun> runs;
  for (uint32_t i = 0; i < sources.size(); ++i) {
    const engine::RecordId& id = sources[i].id;
    if (runs.empty() || runs.back().partition != id.partition) {
      runs.push_back(SourceRun{id.partition, i, i, id.offset, true});
    }
    SourceRun& run = runs.back();
    run.consecutive = run.consecutive && id.offset == run.first_offset + (i - run.first);
    run.last = i + 1;
  }
  return runs;
}

Result<std::vector<InFlightRecord>> CutChecker::InFlight(const Cut& cut) const {
  std::vector<InFlightRecord> out;
  const engine::ExecutionPlan& plan = *cut.plan;
  for (const proto::OperatorState& op : cut.metadata->operators()) {
    for (const proto::SubtaskState& sub : op.subtasks()) {
      if (sub.input_channel_state_size() == 0 && sub.output_channel_state_size() == 0) continue;
      if (sub.task() >= plan.tasks.size()) {
        return DataLossError("channel state of unknown task " + std::to_string(sub.task()));
      }
      const engine::ChainSpec& chain = plan.chains[plan.tasks[sub.task()].chain];
      for (const proto::ChannelStateHandle& h : sub.input_channel_state()) {
        FL_RETURN_IF_ERROR(ReadChannelState(h, sub.task(), chain.first_operator, out));
      }
      for (const proto::ChannelStateHandle& h : sub.output_channel_state()) {
        FL_RETURN_IF_ERROR(ReadChannelState(h, sub.task(), chain.last_operator + 1, out));
      }
    }
  }
  return out;
}

Status CutChecker::ReadChannelState(const proto::ChannelStateHandle& handle, uint32_t task,
                                    uint32_t enters, std::vector<InFlightRecord>& out) const {
  FL_ASSIGN_OR_RETURN(auto records, ChannelStateRecords(sent_, handle));
  for (auto& [channel, record] : records) {
    out.push_back(InFlightRecord{enters, task, std::move(record)});
  }
  return Status::Ok();
}

// Runs the reference for every keyed operator: over the records before the cut, each record in
// flight withheld where it was. A record in flight behind the cut is a violation (false); so is
// one the reference does not deliver where it was, or not that often (persisted twice on one
// lineage; a broadcast edge sends a copy to each consumer, so one id may be in flight more than
// once).
bool CutChecker::ReferenceRuns(Cut& cut, const std::map<uint32_t, uint64_t>& offsets,
                               const std::vector<InFlightRecord>& in_flight) {
  const CutReference::SourceRanges before = RecordsBefore(offsets, cut.id);
  bool consistent = true;
  for (const InFlightRecord& f : in_flight) {
    // A record reflecting no single source record (a flat_map's later copies) is judged by the
    // reference alone: it must be one the records before the cut bring there.
    if (f.record.provenance.count != 1) continue;
    std::optional<engine::RecordId> id = index_.IdOf(f.record.provenance);
    auto offset = id ? offsets.find(id->partition) : offsets.end();
    if (id && offset != offsets.end() && id->offset < offset->second) continue;
    Evidence e;
    e.checkpoint_id = cut.id;
    e.task = f.task;
    e.record = id;
    e.key = f.record.key;
    e.detail = "a persisted in-flight record is behind the cut (or no source record)";
    verdict_.Fail(Violation{"a checkpoint's channel state holds records outside its cut", e});
    consistent = false;
  }
  if (!consistent) return false;
  // Every keyed operator after the first, and every in-flight record, from one run from scratch.
  std::shared_ptr<const ReferenceResult> full;
  if (full_runs_ || !in_flight.empty()) full = FullRun(cut, before, in_flight);
  for (uint32_t op = 0; op < setup_.job.operators.size(); ++op) {
    const engine::OperatorSpec& spec = setup_.job.operators[op];
    if (spec.kind != engine::OperatorKind::kKeyedProcess) continue;
    OperatorAtCut& at = cut.reference[op];
    if (op == first_keyed_) {
      // What is in flight upstream has not reached the operator: take out what it would bring.
      std::vector<Record> withheld;
      for (const InFlightRecord& f : in_flight) {
        if (f.enters > op) continue;
        for (Record& r : reference_.ArrivingFrom(f.enters, op, f.record)) {
          withheld.push_back(std::move(r));
        }
      }
      for (const Record& r :
           incremental_->Advance(before, cut.orders ? &*cut.orders : nullptr, withheld)) {
        StrayInFlight(cut, op, r, /*order_known=*/true);
      }
      at.incremental = incremental_.get();
      for (const CutReference::KeyAt& k : incremental_->Keys()) {
        at.keys.push_back(KeyAtCut{*k.key, 0, k.state, k.digest});
      }
    } else {
      at.run = full;
      if (auto states = full->state.find(op); states != full->state.end()) {
        for (const auto& [key, state] : states->second) at.keys.push_back(KeyAtCut{key, 0, &state});
      }
    }
    const engine::OperatorSpec& placed = cut.job->operators[op];  // at the cut's parallelism
    for (KeyAtCut& k : at.keys) {
      k.subtask = SubtaskOfKey(k.key, placed.parallelism, placed.max_parallelism);
    }
  }
  return true;
}

// A record persisted in flight on the way to `op` that the reference does not deliver there.
// The values upstream of a keyed operator depend on its order: without the whole history that
// is not evidence.
void CutChecker::StrayInFlight(const Cut& cut, uint32_t op, const Record& r, bool order_known) {
  const std::string what = "operator " + setup_.job.operators[op].name + " would receive " +
                           FormatRecord(r) +
                           " from it, which the reference does not deliver "
                           "there (or not that often)";
  if (!order_known) {
    verdict_.Unjudge(Unjudged::kOrderUnknown, "checkpoint " + std::to_string(cut.id) +
                                                  ": channel state not matched: " + what);
    return;
  }
  Evidence e;
  e.checkpoint_id = cut.id;
  e.record = index_.IdOf(r.provenance);
  e.key = r.key;
  e.detail = what;
  verdict_.Fail(Violation{"a checkpoint's channel state holds records outside its cut", e});
}

// The reference over the source records before the cut, replayed from scratch (the keyed
// operators after the first, whose input the ones before them shape), each record in flight
// withheld where it was: the operators before that processed it, the rest did not. In-flight
// records it could not take out are reported (those up to the first keyed operator are its
// CutReference's to report).
std::shared_ptr<const ReferenceResult> CutChecker::FullRun(
    const Cut& cut, const CutReference::SourceRanges& before,
    const std::vector<InFlightRecord>& in_flight) {
  ReferenceInput input;
  for (const auto& [first, last] : before) {
    for (uint32_t i = first; i < last; ++i) input.sources.push_back(run_.sources[i].record);
  }
  for (const InFlightRecord& f : in_flight) input.withheld[f.enters].push_back(f.record);
  if (cut.orders) input.order = cut.orders->order;
  auto run = std::make_shared<const ReferenceResult>(reference_.Run(std::move(input)));
  // The values behind a keyed operator follow its order: known only with every history.
  const bool order_known = cut.orders && cut.orders->problems.empty();
  const uint32_t reported = incremental_ ? first_keyed_ : 0;
  for (const UnmatchedRecord& u : run->unmatched_withheld) {
    if (u.op > reported) StrayInFlight(cut, u.op, u.record, order_known);
  }
  return run;
}

// The records the histories up to the cut logged for `key` at `op`, in order.
std::vector<Record> CutChecker::Logged(const Cut& cut, uint32_t op, const std::string& key) const {
  if (!cut.orders) return {};
  const OperatorAtCut& at = cut.reference.at(op);
  if (at.incremental != nullptr) return at.incremental->Logged(key);
  auto by_op = cut.orders->order.find(op);
  if (by_op == cut.orders->order.end()) return {};
  auto it = by_op->second.find(key);
  return it == by_op->second.end() ? std::vector<Record>{} : it->second;
}

std::optional<KeyedOrders> CutChecker::OrdersUpTo(const Cut& cut, bool per_key) {
  if (run_.order == nullptr || run_.order->overflowed()) return std::nullopt;
  // The attempt whose snapshot the checkpoint holds, per task, from its keyed blob's name.
  std::map<uint32_t, uint64_t> attempt_of;
  for (const proto::OperatorState& op : cut.metadata->operators()) {
    for (const proto::SubtaskState& sub : op.subtasks()) {
      for (const proto::StateHandle& h : sub.keyed_state()) {
        if (std::optional<uint64_t> a = AttemptOfBlob(h.blob_name())) {
          attempt_of[sub.task()] = *a;
        }
      }
    }
  }
  // A rescaled run's histories end where the one attempt that took the checkpoint snapshotted
  // (OrdersOf asks for one end): the attempt every keyed blob names, if they agree.
  std::optional<uint64_t> common;
  for (const auto& [task, attempt] : attempt_of) {
    if (common && *common != attempt) {
      common.reset();
      break;
    }
    common = attempt;
  }
  KeyedOrders orders = OrdersOf(
      setup_, *run_.order,
      [&](uint32_t task) {
        if (!run_.rescaled_attempts.empty()) return HistoryEnd{cut.id, common};
        auto it = attempt_of.find(task);
        return HistoryEnd{
            cut.id, it == attempt_of.end() ? std::nullopt : std::optional<uint64_t>(it->second)};
      },
      per_key, &run_.rescaled_attempts);
  for (const std::string& problem : orders.problems) {
    verdict_.Unjudge(Unjudged::kOrderUnknown,
                     "checkpoint " + std::to_string(cut.id) +
                         ": history unknown, its keys replay in source order: " + problem);
  }
  return orders;
}

void CutChecker::CheckChain(const Cut& cut, uint32_t chain) {
  const engine::ChainSpec& spec = cut.plan->chains[chain];
  const uint32_t op = spec.first_operator;
  if (setup_.job.operators[op].kind != engine::OperatorKind::kKeyedProcess) return;
  const proto::OperatorState* state = OperatorNamed(*cut.metadata, spec.name);
  if (state == nullptr) {
    Evidence e;
    e.checkpoint_id = cut.id;
    e.detail = "operator " + spec.name;
    verdict_.Fail(Violation{"a completed checkpoint has no state for a stateful operator", e});
    return;
  }
  for (const proto::SubtaskState& sub : state->subtasks()) CheckSubtask(cut, op, sub);
}

std::optional<SubtaskCut> CutChecker::Locate(const Cut& cut, uint32_t op,
                                             const proto::SubtaskState& sub) {
  const std::string where =
      "checkpoint " + std::to_string(cut.id) + " task " + std::to_string(sub.task()) + ": ";
  if (sub.keyed_state_size() != 1) {
    verdict_.Unjudge(Unjudged::kCheckpointSkipped, where + std::to_string(sub.keyed_state_size()) +
                                                       " keyed handles, one expected");
    return std::nullopt;
  }
  SubtaskCut at;
  at.op = op;
  at.task = sub.task();
  const proto::StateHandle& handle = sub.keyed_state(0);
  at.blob = handle.blob_name();
  at.where.checkpoint_id = cut.id;
  at.where.task = at.task;
  at.where.attempt = AttemptOfBlob(at.blob);
  at.where.blob = at.blob;
  if (run_.order != nullptr && at.where.attempt) {
    if (const AttemptLog* log = run_.order->Find(at.task, *at.where.attempt)) {
      if (const LoggedSnapshot* s = log->SnapshotOf(cut.id)) at.where.time = s->time;
    }
  }
  at.bytes = sent_.Find(at.blob, handle.checksum(), handle.size_bytes());
  if (at.bytes != nullptr && IsIncrementalHandle(*at.bytes)) {
    // Incremental RocksDB state: read its files (as the engine sent them) into a keyed blob.
    Result<Bytes> blob = KeyedBlobOfIncremental(
        *at.bytes, at.blob, [this](const std::string& name, uint64_t size, uint64_t checksum) {
          return sent_.Find(name, checksum, size);
        });
    if (!blob.ok()) {
      verdict_.Unjudge(Unjudged::kCheckpointSkipped,
                       where + "keyed state unreadable (DUR/REC judge a missing file): " +
                           blob.status().ToString());
      return std::nullopt;
    }
    const Bytes* handle_bytes = at.bytes;
    at.bytes = &(converted_[at.blob] = std::move(*blob));
    const uint64_t checksum = ChecksumOf(*handle_bytes);
    if (checksum != handle.checksum() || handle_bytes->size() != handle.size_bytes()) {
      at.checksum_note = "the handle no longer matches its metadata (checksum " +
                         std::to_string(checksum) + ", recorded " +
                         std::to_string(handle.checksum()) + "): altered after capture";
      verdict_.Note(where + at.checksum_note);
    }
    return at;
  }
  if (at.bytes == nullptr) {
    verdict_.Unjudge(Unjudged::kCheckpointSkipped,
                     where + "keyed blob " + at.blob + " was never written (DUR/REC judge that)");
    return std::nullopt;
  }
  const uint64_t checksum = ChecksumOf(*at.bytes);
  if (checksum != handle.checksum() || at.bytes->size() != handle.size_bytes()) {
    at.checksum_note = "the blob no longer matches its metadata handle (checksum " +
                       std::to_string(checksum) + ", recorded " +
                       std::to_string(handle.checksum()) + "): altered after capture";
    verdict_.Note(where + at.checksum_note);
  }
  return at;
}

void CutChecker::CheckSubtask(const Cut& cut, uint32_t op, const proto::SubtaskState& sub) {
  const engine::OperatorSpec& spec = cut.job->operators[op];  // at the cut's parallelism
  const engine::ExecutionPlan& plan = *cut.plan;
  const uint32_t task = sub.task();
  if (task >= plan.tasks.size() || plan.chains[plan.tasks[task].chain].first_operator != op) {
    Evidence e;
    e.checkpoint_id = cut.id;
    e.task = task;
    verdict_.Fail(Violation{"checkpoint metadata names a task outside its operator", e});
    return;
  }
  std::optional<SubtaskCut> at = Locate(cut, op, sub);
  if (!at) return;
  const uint32_t subtask = plan.tasks[task].subtask;
  std::vector<const KeyAtCut*> expected;
  for (const KeyAtCut& k : cut.reference.at(op).keys) {
    if (k.subtask == subtask) expected.push_back(&k);
  }
  if (MatchesByDigest(*at, spec, subtask, expected)) return;
  Result<std::map<std::string, KeySnapshot>> snapshot = ReadKeyedSnapshot(
      *at->bytes, at->blob, GroupsOfSubtask(subtask, spec.parallelism, spec.max_parallelism),
      spec.max_parallelism);
  if (snapshot.status().code() == StatusCode::kFailedPrecondition) {
    Evidence e;
    e.checkpoint_id = cut.id;
    e.task = task;
    verdict_.Fail(
        Violation{"snapshot blob misplaces state: " + std::string(snapshot.status().message()), e});
    return;
  }
  if (!snapshot.ok()) {
    verdict_.Unjudge(Unjudged::kCheckpointSkipped,
                     "checkpoint " + std::to_string(cut.id) +
                         ": keyed blob unreadable: " + snapshot.status().ToString());
    return;
  }
  std::sort(expected.begin(), expected.end(),
            [](const KeyAtCut* a, const KeyAtCut* b) { return a->key < b->key; });
  // Every key of either, in key order (both are sorted, keys unique in each).
  auto got = snapshot->begin();
  auto want = expected.begin();
  while (got != snapshot->end() || want != expected.end()) {
    const bool take_got = want == expected.end() ||
                          (got != snapshot->end() && std::string_view(got->first) <= (*want)->key);
    const bool take_want = got == snapshot->end() ||
                           (want != expected.end() && (*want)->key <= std::string_view(got->first));
    const std::string key = take_got ? got->first : std::string((*want)->key);
    CompareKey(cut, *at, key, take_got ? &got->second : nullptr,
               take_want ? (*want)->state : nullptr);
    if (take_got) ++got;
    if (take_want) ++want;
  }
}

// Whether the blob holds exactly the expected keys, each with the reference's entries and
// provenance, by the digest of all of them (each entry's hash covers its key): the usual case,
// judged without building the entries. False for anything else (a difference, an error of the
// blob), which the entry-by-entry reading then reports as it finds it.
bool CutChecker::MatchesByDigest(const SubtaskCut& at, const engine::OperatorSpec& spec,
                                 uint32_t subtask, const std::vector<const KeyAtCut*>& expected) {
  const std::optional<KeyDigest> got = DigestOfBlob(
      *at.bytes, at.blob, GroupsOfSubtask(subtask, spec.parallelism, spec.max_parallelism));
  if (!got) return false;
  KeyDigest want;
  for (const KeyAtCut* k : expected) {
    const std::optional<KeyDigest> digest =
        k->digest ? *k->digest
                  : DigestOf(GroupOfKey(k->key, spec.max_parallelism), k->key, *k->state);
    if (!digest) return false;
    want += *digest;
  }
  return want == *got;
}

void CutChecker::CompareKey(const Cut& cut, const SubtaskCut& at, const std::string& key,
                            const KeySnapshot* got, const KeyState* want) {
  const engine::Provenance got_provenance = got ? got->provenance : engine::Provenance{};
  const engine::Provenance want_provenance = want ? want->provenance : engine::Provenance{};
  const auto evidence = [&at, &key] {
    Evidence e = at.where;
    e.key = key;
    return e;
  };
  if (got_provenance != want_provenance) {
    Evidence e = evidence();
    std::string why;
    e.record = Culprit(cut, at.op, key, got_provenance, want_provenance, why);
    e.detail = "snapshot reflects " + std::to_string(got_provenance.count) +
               " source records, the records before the cut routed to this key number " +
               std::to_string(want_provenance.count) + why;
    verdict_.Fail(
        Violation{"a snapshot's provenance differs from the records before the cut", std::move(e)});
    return;
  }
  const StateEntries wanted = want ? EntriesOf(*want) : StateEntries{};
  const StateEntries empty;
  const StateEntries& found = got ? got->entries : empty;
  // Every state name of either, in name order (both maps are sorted by it).
  auto w = wanted.begin();
  auto f = found.begin();
  while (w != wanted.end() || f != found.end()) {
    const bool take_w = f == found.end() || (w != wanted.end() && !(f->first < w->first));
    const bool take_f = w == wanted.end() || (f != found.end() && !(w->first < f->first));
    const auto& name = take_w ? w->first : f->first;
    const Bytes* w_value = take_w ? &w->second : nullptr;
    const Bytes* f_value = take_f ? &f->second : nullptr;
    if (take_w) ++w;
    if (take_f) ++f;
    if (w_value && f_value && *w_value == *f_value) continue;
    Evidence e = evidence();
    e.detail = "state '" + name.first + "'" +
               (name.second.empty() ? "" : " user key '" + name.second + "'") + ": snapshot " +
               DescribeValue(f_value) + ", the reference " + DescribeValue(w_value) +
               (at.checksum_note.empty() ? "" : "; " + at.checksum_note);
    verdict_.Fail(
        Violation{"a snapshotted value differs from the reference replayed up to the "
                  "barrier",
                  std::move(e)});
    return;  // one violation per key: the rest of its states would echo it
  }
}

std::optional<engine::RecordId> CutChecker::Culprit(const Cut& cut, uint32_t op,
                                                    const std::string& key,
                                                    const engine::Provenance& got,
                                                    const engine::Provenance& want,
                                                    std::string& why) const {
  const std::vector<Record> logged = Logged(cut, op, key);
  std::vector<Record> processed;
  const OperatorAtCut& at = cut.reference.at(op);
  if (at.incremental != nullptr) {
    processed = at.incremental->Processed(key);
  } else if (auto by_op = at.run->processed.find(op); by_op != at.run->processed.end()) {
    auto it = by_op->second.find(key);
    if (it != by_op->second.end()) processed = it->second;
  }
  if (cut.orders && got.count >= want.count) {
    if (std::optional<Record> extra = FirstNotIn(logged, processed)) {
      why = "; this record was processed before the snapshot but is behind the cut";
      return index_.IdOf(extra->provenance);
    }
  }
  if (cut.orders && got.count <= want.count) {
    if (std::optional<Record> missing = FirstNotIn(processed, logged)) {
      why = "; this record is before the cut but was not processed before the snapshot";
      return index_.IdOf(missing->provenance);
    }
  }
  // The state itself differs from what the task logged: name the id the difference is, if one.
  const bool more = got.count > want.count;
  const engine::Provenance diff{more ? got.count - want.count : want.count - got.count,
                                more ? got.hash_sum - want.hash_sum : want.hash_sum - got.hash_sum};
  std::optional<engine::RecordId> id = index_.IdOf(diff);
  if (id) why = more ? "; the snapshot has this record in excess" : "; the snapshot lacks it";
  return id;
}

}  // namespace

Verdict CheckConsistentCuts(const RunView& run, Derived* derived) {
  Verdict verdict("EO-CUT");
  if (run.setup->config.checkpoints.mode == engine::CheckpointMode::kAtLeastOnce) {
    verdict.Unjudge(Unjudged::kNothingToCheck, "at-least-once checkpoints are not consistent cuts");
    return verdict;
  }
  const std::vector<MetadataVersion> versions = MetadataVersions(SentBlobs(run));
  if (versions.empty()) {
    verdict.Unjudge(Unjudged::kNothingToCheck,
                    "no checkpoint or savepoint metadata was ever written");
  }
  std::optional<Derived> own;
  if (derived == nullptr) derived = &own.emplace(run);
  CutChecker checker(run, derived->Index(), verdict);
  for (const MetadataVersion& version : versions) checker.Check(version);
  return verdict;
}

}  // namespace faultline::checkers
