#include "checkers/interleaving.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "checkers/channel_state.h"
#include "checkers/key_groups.h"

namespace faultline::checkers {
namespace {

using engine::Record;

// The plan generation an attempt ran (RunView::rescaled_attempts; the rest run generation 0's
// plan).
uint32_t GenerationOf(const RunView& run, uint64_t attempt) {
  return GenerationOfAttempt(run.rescaled_attempts, attempt);
}

// Routes a producer task's output records to its consumers, as the next chain's partitioner at
// the producer's attempt's plan generation.
class Router {
 public:
  Router(const engine::JobSetup& setup, uint32_t generation, uint32_t producer)
      : plan_(setup.PlanOf(generation)),
        job_(setup.JobOf(generation)),
        next_chain_(plan_.tasks[producer].chain + 1),
        outputs_(plan_.OutputsOf(producer)) {}

  void Route(Record record, std::map<uint32_t, std::vector<Record>>& sent) {
    if (outputs_.empty()) return;  // the last chain sends nothing
    const engine::ChainSpec& next = plan_.chains[next_chain_];
    const engine::OperatorSpec& first = job_.operators[next.first_operator];
    switch (next.input_partitioner) {
      case engine::Partitioner::kForward:
        sent[outputs_.front()].push_back(std::move(record));
        return;
      case engine::Partitioner::kHash: {
        record.key = first.key_selector(record);
        const uint32_t subtask = SubtaskOfKey(record.key, first.parallelism, first.max_parallelism);
        sent[plan_.tasks_of_chain[next_chain_][subtask]].push_back(std::move(record));
        return;
      }
      case engine::Partitioner::kRebalance:
        sent[outputs_[round_robin_++ % outputs_.size()]].push_back(std::move(record));
        return;
      case engine::Partitioner::kBroadcast:
        for (uint32_t consumer : outputs_) sent[consumer].push_back(record);
        return;
    }
  }

 private:
  const engine::ExecutionPlan& plan_;
  const engine::JobGraph& job_;
  uint32_t next_chain_;
  std::vector<uint32_t> outputs_;
  size_t round_robin_ = 0;
};

// A producer's chain, run record by record as its task runs it: stateless operators through the
// reference, keyed ones on the per-key state this task's earlier records left (restored state
// is rebuilt by running the chain over the history the restore brings back).
class ChainModel {
 public:
  ChainModel(const Reference& reference, const engine::ChainSpec& chain)
      : reference_(reference), first_(chain.first_operator), last_(chain.last_operator) {}

  bool keyed() const {
    for (uint32_t op = first_; op <= last_; ++op) {
      if (reference_.job().operators[op].kind == engine::OperatorKind::kKeyedProcess) return true;
    }
    return false;
  }

  // The records the chain turns `in` into, in order (valid until the next call).
  std::vector<Record>& Run(const Record& in) {
    stream_.clear();
    stream_.push_back(in);
    for (uint32_t op = first_; op <= last_; ++op) {
      next_.clear();
      if (reference_.job().operators[op].kind == engine::OperatorKind::kKeyedProcess) {
        for (const Record& r : stream_) {
          reference_.ProcessKeyed(op, r, states_[{op, r.key}], next_);
        }
      } else {
        for (const Record& r : stream_) reference_.ApplyStatelessOperator(op, r, next_);
      }
      stream_.swap(next_);
    }
    return stream_;
  }

 private:
  struct StateKeyHash {
    size_t operator()(const std::pair<uint32_t, std::string>& k) const {
      return std::hash<std::string>()(k.second) ^ (size_t{k.first} * 0x9e3779b97f4a7c15ULL);
    }
  };

  const Reference& reference_;
  const uint32_t first_;
  const uint32_t last_;
  // Buffers reused from record to record.
  std::vector<Record> stream_;
  std::vector<Record> next_;
  std::unordered_map<std::pair<uint32_t, std::string>, KeyState, StateKeyHash> states_;
};

// What each producer task sent to each consumer in each attempt, computed on first use.
class SentRecords {
 public:
  SentRecords(const RunView& run, const SourceIndex& sources, const Reference& reference)
      : run_(run), sources_(sources), reference_(reference) {}

  // Null when the producer's output is not modelled.
  const std::vector<Record>* Sent(uint32_t producer, uint64_t attempt, uint32_t consumer) {
    auto [it, inserted] = cache_.try_emplace({producer, attempt});
    if (inserted) it->second = Compute(producer, attempt);
    if (!it->second) return nullptr;
    return &(*it->second)[consumer];  // creates an empty list: nothing sent
  }

 private:
  using SentByConsumer = std::map<uint32_t, std::vector<Record>>;

  std::optional<SentByConsumer> Compute(uint32_t producer, uint64_t attempt) {
    const uint32_t generation = GenerationOf(run_, attempt);
    const engine::ExecutionPlan& plan = run_.setup->PlanOf(generation);
    SentByConsumer sent;
    const AttemptLog* log = run_.order->Find(producer, attempt);
    if (log == nullptr) return sent;  // the producer never ran in that attempt
    if (producer >= plan.tasks.size()) return std::nullopt;
    const engine::ChainSpec& chain = plan.chains[plan.tasks[producer].chain];
    ChainModel model(reference_, chain);
    if (model.keyed() && !Restore(*log, generation, chain, plan.tasks[producer].subtask, model)) {
      return std::nullopt;
    }
    Router router(*run_.setup, generation, producer);
    auto send = [&](const Record& in) {
      for (Record& out : model.Run(in)) router.Route(std::move(out), sent);
    };
    for (const engine::RecordId& id : log->emitted) {
      if (const Record* record = sources_.Find(id)) send(*record);
    }
    for (const LoggedRecord& in : log->processed) send(in.record);
    return sent;
  }

  // Brings a keyed chain's state to what the restore of `log` (subtask `subtask` of `chain` at
  // plan generation `generation`) left: what its history had processed. False when the log
  // cannot tell.
  bool Restore(const AttemptLog& log, uint32_t generation, const engine::ChainSpec& chain,
               uint32_t subtask, ChainModel& model) {
    if (run_.rescaled_attempts.empty()) {
      Result<std::vector<HistorySegment>> restored = HistoryBefore(*run_.order, log);
      if (!restored.ok()) return false;
      for (const HistorySegment& segment : *restored) {
        for (size_t i = 0; i < segment.processed_end; ++i) {
          model.Run(segment.log->processed[i].record);
        }
      }
      return true;
    }
    // A rescaled run: the subtask's key groups came from their owners at the restored
    // checkpoint, whatever its parallelism; each key's history up to it is followed through
    // its group's owners (OrdersOf). Keys do not interact: key by key is as good as the order
    // the owners took them in.
    if (!log.start_checkpoint) return false;
    if (*log.start_checkpoint == 0) return true;  // from scratch
    const KeyedOrders& orders = OrdersAt(*log.start_checkpoint);
    if (!orders.problems.empty()) return false;
    auto by_op = orders.order.find(chain.first_operator);
    if (by_op == orders.order.end()) return true;  // nothing processed before it
    const engine::OperatorSpec& spec =
        run_.setup->JobOf(generation).operators[chain.first_operator];
    const GroupRange own = GroupsOfSubtask(subtask, spec.parallelism, spec.max_parallelism);
    for (const auto& [key, records] : by_op->second) {
      if (!own.Contains(GroupOfKey(key, spec.max_parallelism))) continue;
      for (const Record& r : records) model.Run(r);
    }
    return true;
  }

  // The per-key orders of a rescaled run's histories up to checkpoint `id`, computed once.
  const KeyedOrders& OrdersAt(uint64_t id) {
    auto [it, inserted] = orders_at_.try_emplace(id);
    if (inserted) {
      it->second = OrdersOf(
          *run_.setup, *run_.order,
          [id](uint32_t) {
            return HistoryEnd{id, std::nullopt};
          },
          /*per_key=*/true, &run_.rescaled_attempts);
    }
    return it->second;
  }

  const RunView& run_;
  const SourceIndex& sources_;
  const Reference& reference_;
  std::map<std::pair<uint32_t, uint64_t>, std::optional<SentByConsumer>> cache_;
  std::map<uint64_t, KeyedOrders> orders_at_;
};

Violation OrderBreak(const SourceIndex& sources, uint32_t task, const AttemptLog& log,
                     const LoggedRecord& taken, uint32_t producer, size_t position,
                     const std::vector<Record>& sent) {
  Violation v;
  v.what = "a task took a record its input channel did not deliver next";
  v.evidence.record = sources.IdOf(taken.record.provenance);
  v.evidence.key = taken.record.key;
  v.evidence.task = task;
  v.evidence.attempt = log.attempt;
  v.evidence.detail = "channel " + std::to_string(taken.input) + " (from task " +
                      std::to_string(producer) + ") position " + std::to_string(position) +
                      ": took " + FormatRecord(taken.record) + ", the producer sent " +
                      (position < sent.size() ? FormatRecord(sent[position]) : "nothing more");
  return v;
}

// What a restore replays first on each input channel, per restored checkpoint, read on first
// use; null (and the reason) when the checkpoint's channel state cannot be read.
class Replayed {
 public:
  explicit Replayed(const RunView& run) : run_(run), sent_(run) {}
  const RestoredChannels* Of(uint64_t checkpoint, std::string& why) {
    auto it = cache_.find(checkpoint);
    if (it == cache_.end()) {
      it = cache_.emplace(checkpoint, RestoredChannelsOf(sent_, *run_.setup, checkpoint)).first;
    }
    if (!it->second.ok()) {
      why = it->second.status().ToString();
      return nullptr;
    }
    return &*it->second;
  }

 private:
  const RunView& run_;
  const SentBlobs sent_;
  std::map<uint64_t, Result<RestoredChannels>> cache_;
};

// Checks one segment, stopping at its first break (later positions would only echo it). Each
// input channel delivers, in order, the channel state its attempt's restore replays (from the
// checkpoint the attempt started from), then what its producer sent in the same attempt.
void CheckSegment(const RunView& run, const SourceIndex& sources, SentRecords& sent,
                  Replayed& replayed, uint32_t task, const HistorySegment& segment,
                  Verdict& verdict, std::set<uint32_t>& unmodelled) {
  const std::vector<uint32_t> producers =
      run.setup->PlanOf(GenerationOf(run, segment.log->attempt)).InputsOf(task);
  const uint64_t start = segment.log->start_checkpoint.value_or(0);
  const RestoredChannels* restored = nullptr;
  if (start > 0) {
    std::string why;
    restored = replayed.Of(start, why);
    if (restored == nullptr) {
      verdict.Unjudge(Unjudged::kOrderUnknown, "channel order of task " + std::to_string(task) +
                                                   " after its restore of checkpoint " +
                                                   std::to_string(start) + " not verified: " + why);
      return;
    }
  }
  std::vector<std::optional<std::vector<Record>>> expected(producers.size());
  std::vector<size_t> position(producers.size(), 0);
  for (size_t i = 0; i < segment.processed_end; ++i) {
    const LoggedRecord& taken = segment.log->processed[i];
    if (taken.input >= producers.size()) {
      verdict.Fail(OrderBreak(sources, task, *segment.log, taken, 0, 0, {}));
      return;
    }
    const uint32_t producer = producers[taken.input];
    std::optional<std::vector<Record>>& channel = expected[taken.input];
    if (!channel) {
      const std::vector<Record>* fresh = sent.Sent(producer, segment.log->attempt, task);
      if (fresh == nullptr) {
        unmodelled.insert(producer);
        continue;
      }
      channel.emplace();
      if (restored != nullptr) {
        auto first = restored->find({task, taken.input});
        if (first != restored->end()) *channel = first->second;
      }
      channel->insert(channel->end(), fresh->begin(), fresh->end());
    }
    const size_t at = position[taken.input]++;
    if (at >= channel->size() || (*channel)[at] != taken.record) {
      verdict.Fail(OrderBreak(sources, task, *segment.log, taken, producer, at, *channel));
      return;
    }
  }
}

}  // namespace

void CheckInterleavings(const RunView& run, const SourceIndex& sources, const Reference& reference,
                        const KeyedOrders& orders, Verdict& verdict) {
  SentRecords sent(run, sources, reference);
  Replayed replayed(run);
  std::set<uint32_t> unmodelled;
  for (const auto& [attempt, generation] : run.rescaled_attempts) {
    if (generation >= run.setup->generations()) {
      verdict.Unjudge(Unjudged::kOrderUnknown,
                      "channel order not verified: attempt " + std::to_string(attempt) +
                          " ran plan generation " + std::to_string(generation) +
                          ", which the job does not have");
      return;
    }
  }
  if (!run.rescaled_attempts.empty()) {
    // A rescaled run has no per-task histories (a subtask's key groups came from others): every
    // attempt of every task is checked whole, at its own plan generation. Every record a task
    // took, committed or not, came in order from what its producers of the same attempt sent.
    for (uint32_t task = 0; task < TaskIndexBound(*run.setup); ++task) {
      for (const AttemptLog* log : run.order->AttemptsOf(task)) {
        const engine::ExecutionPlan& plan = run.setup->PlanOf(GenerationOf(run, log->attempt));
        if (task >= plan.tasks.size() || plan.IsSource(task)) continue;
        const HistorySegment whole{log, log->processed.size(), log->emitted.size()};
        CheckSegment(run, sources, sent, replayed, task, whole, verdict, unmodelled);
      }
    }
  }
  for (const auto& [task, history] : orders.histories) {
    if (run.setup->plan.IsSource(task)) continue;
    for (const HistorySegment& segment : history) {
      CheckSegment(run, sources, sent, replayed, task, segment, verdict, unmodelled);
    }
  }
  for (uint32_t producer : unmodelled) {
    verdict.Unjudge(Unjudged::kOrderUnknown,
                    "channel order from task " + std::to_string(producer) +
                        " not verified: the history its restored state came from is unknown");
  }
}

}  // namespace faultline::checkers
