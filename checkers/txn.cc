// TXN (ORACLES.md), for a two-phase-commit sink: no transaction is committed twice; every
// transaction pre-committed for a completed checkpoint is committed (after recovery too); none
// becomes visible unless a completed checkpoint pre-committed it, nor before that checkpoint
// completed (a pending transaction of an aborted checkpoint is carried in the next
// checkpoint's sink state and committed with it, which is legitimate); a fenced (zombie)
// attempt commits nothing after its successor started writing.
#include <map>
#include <optional>
#include <set>
#include <string>

#include "checkers/checker.h"
#include "checkers/degradation.h"

namespace faultline::checkers {
namespace {

std::string WriterOf(std::string_view target) {
  const size_t at = target.find("/attempt-");
  return std::string(at == std::string_view::npos ? target : target.substr(0, at));
}

// The attempt named in a transaction "<writer>/attempt-<a>/txn-<n>".
std::optional<uint64_t> AttemptOfTxn(std::string_view txn) {
  const size_t at = txn.find("/attempt-");
  if (at == std::string_view::npos) return std::nullopt;
  uint64_t attempt = 0;
  for (size_t i = at + 9; i < txn.size() && txn[i] >= '0' && txn[i] <= '9'; ++i) {
    attempt = attempt * 10 + static_cast<uint64_t>(txn[i] - '0');
  }
  return attempt;
}

struct PreCommitted {
  uint64_t checkpoint = 0;
  Time completed;
};

}  // namespace

Verdict CheckTransactions(const RunRecord& run, Derived* /*derived*/) {
  Verdict verdict("TXN");
  const Recording& rec = run.recording;
  bool two_phase = false;
  for (const engine::OperatorSpec& op : run.view.setup->job.operators) {
    if (op.kind == engine::OperatorKind::kSink &&
        op.sink.kind == engine::SinkKind::kTwoPhaseCommit) {
      two_phase = true;
    }
  }
  if (!two_phase) {
    verdict.Unjudge(Unjudged::kNothingToCheck, "the job has no two-phase-commit sink");
    return verdict;
  }

  // Publications per transaction: successful commits, and distinct visibility times.
  std::map<std::string, std::vector<Time>, std::less<>> commits;
  for (const ServiceCall& c : rec.calls) {
    if (c.service == sim::Service::kOutputStore && c.op == sim::ServiceOp::kCommit && c.ok()) {
      commits[c.target].push_back(*c.applied);
    }
  }
  std::map<std::string, std::set<Time>, std::less<>> visible;
  for (const CommittedRecord& r : run.view.committed) {
    if (r.kind == sim::OutputRecord::Kind::kTransactional) visible[r.txn].insert(r.visible_at);
  }

  // 1. Committed at most once.
  uint64_t twice = 0;
  std::set<std::string, std::less<>> committed;
  for (const auto& [txn, times] : commits) committed.insert(txn);
  for (const auto& [txn, times] : visible) committed.insert(txn);
  for (const std::string& txn : committed) {
    const std::vector<Time>* c = commits.count(txn) ? &commits.at(txn) : nullptr;
    const std::set<Time>* v = visible.count(txn) ? &visible.at(txn) : nullptr;
    const size_t publications = std::max(c ? c->size() : 0, v ? v->size() : 0);
    if (publications <= 1) continue;
    ++twice;
    std::optional<Time> second;
    if (c && c->size() > 1) second = (*c)[1];
    if (!second && v) second = *std::next(v->begin());
    verdict.Fail(
        Violation{"a transaction was committed more than once",
                  Evidence{.txn = txn,
                           .time = second,
                           .detail = "published " + std::to_string(publications) + " times"}});
  }
  if (twice == 0 && run.commits_repeated > 0) {
    verdict.Fail(Violation{"the output store counted repeated commits",
                           Evidence{.time = run.end,
                                    .detail = std::to_string(run.commits_repeated) +
                                              " commits of already committed transactions"}});
  }

  // Transactions the completed checkpoints pre-committed, with the first completion naming each.
  std::map<std::string, PreCommitted, std::less<>> pre;
  bool sink_state_complete = true;
  for (const CompletionRecord& c : rec.completions) {
    if (!c.metadata_decoded || !c.unreadable_sink_blobs.empty()) {
      sink_state_complete = false;
      verdict.Unjudge(
          Unjudged::kCheckpointSkipped,
          "checkpoint " + std::to_string(c.checkpoint) +
              " completed without readable sink state: which transactions it pre-committed "
              "is unknown (see DUR)");
    }
    for (const engine::PendingTransaction& p : c.pending) {
      pre.try_emplace(p.txn, PreCommitted{c.checkpoint, c.time});
    }
  }

  // 2. Nothing visible that no completed checkpoint pre-committed, nor before it completed.
  for (const std::string& txn : committed) {
    std::optional<Time> first;
    if (commits.count(txn)) first = commits.at(txn).front();
    if (visible.count(txn) && (!first || *visible.at(txn).begin() < *first)) {
      first = *visible.at(txn).begin();
    }
    auto it = pre.find(txn);
    if (it == pre.end()) {
      Violation v{"a transaction became visible that no completed checkpoint pre-committed",
                  Evidence{.txn = txn,
                           .time = first,
                           .detail = "from an aborted checkpoint or a failed attempt"}};
      if (sink_state_complete) {
        verdict.Fail(std::move(v));
      } else {
        verdict.Unjudge(Unjudged::kCheckpointSkipped, ToString(v));
      }
      continue;
    }
    if (first && *first < it->second.completed) {
      verdict.Fail(
          Violation{"a transaction became visible before its checkpoint completed",
                    Evidence{.checkpoint_id = it->second.checkpoint,
                             .txn = txn,
                             .time = first,
                             .detail = "checkpoint completed at t=" +
                                       std::to_string(it->second.completed.nanos()) + "ns"}});
    }
  }

  // 3. Every pre-committed transaction of a completed checkpoint is committed by the end, except
  // those of a checkpoint the engine reported unreadable after an injected storage fault (ORACLES
  // fail / fallback policy: recovery may not use it, so its transactions stay uncommitted).
  std::set<uint64_t> reported_unreadable;
  for (const EngineEventRecord& e : rec.events) {
    if (e.event != engine::EngineEvent::kCheckpointUnreadable) continue;
    const auto id = static_cast<uint64_t>(e.args.checkpoint.value());
    if (DestroyedOnCheckpoint(rec, id) != 0) {
      if (reported_unreadable.insert(id).second) {
        verdict.Note("checkpoint " + std::to_string(id) +
                     " was reported unreadable after an injected storage fault: its "
                     "pre-committed transactions are not required to commit");
      }
    }
  }
  if (run.status == engine::JobStatus::kFinished) {
    for (const auto& [txn, p] : pre) {
      if (reported_unreadable.count(p.checkpoint)) continue;
      auto state = run.txn_states.find(txn);
      if (state != run.txn_states.end() && state->second == sim::TxnState::kCommitted) continue;
      verdict.Fail(Violation{
          "a transaction pre-committed for a completed checkpoint was never committed",
          Evidence{.checkpoint_id = p.checkpoint,
                   .txn = txn,
                   .time = run.end,
                   .detail = state == run.txn_states.end() ? "the output store does not know it"
                                                           : "still not committed at the end"}});
    }
  } else {
    verdict.Unjudge(Unjudged::kJobNotFinished,
                    "the job did not finish (" + std::string(engine::JobStatusName(run.status)) +
                        "): pre-committed transactions not checked for their commit");
  }

  // 4. No commit of an attempt applied after a later attempt's sink started as the same writer:
  // its fence, or its first write or pre-commit of a transaction of its own (with fencing, the
  // fence comes first and refuses such a commit).
  std::map<std::string, std::map<uint64_t, Time>> successor_start;  // writer -> attempt -> time
  std::map<uint64_t, Time> deployed;
  for (const RestoreRecord& d : rec.deployments) deployed.try_emplace(d.attempt, d.time);
  for (const ServiceCall& c : rec.calls) {
    if (c.service != sim::Service::kOutputStore || !c.ok()) continue;
    std::optional<uint64_t> attempt;
    if (c.op == sim::ServiceOp::kFence) {
      auto d = deployed.find(c.attempt);
      if (d != deployed.end() && c.requested >= d->second) attempt = c.attempt;
    } else if (c.op == sim::ServiceOp::kTxnWrite || c.op == sim::ServiceOp::kPreCommit) {
      attempt = AttemptOfTxn(c.target);
    }
    if (!attempt) continue;
    auto& starts = successor_start[WriterOf(c.target)];
    auto [it, inserted] = starts.try_emplace(*attempt, *c.applied);
    if (!inserted && *c.applied < it->second) it->second = *c.applied;
  }
  for (const ServiceCall& c : rec.calls) {
    if (c.service != sim::Service::kOutputStore || c.op != sim::ServiceOp::kCommit || !c.ok()) {
      continue;
    }
    const auto& starts = successor_start[WriterOf(c.target)];
    for (auto it = starts.upper_bound(c.attempt); it != starts.end(); ++it) {
      if (it->second > *c.applied) continue;
      verdict.Fail(Violation{
          "a zombie attempt committed after its successor started",
          Evidence{.attempt = c.attempt,
                   .txn = c.target,
                   .time = c.applied,
                   .detail = "requested at t=" + std::to_string(c.requested.nanos()) +
                             "ns by node " + std::to_string(c.node) + "; attempt " +
                             std::to_string(it->first) + " wrote as " + WriterOf(c.target) +
                             " from t=" + std::to_string(it->second.nanos()) + "ns"}});
      break;
    }
  }
  return verdict;
}

}  // namespace faultline::checkers
