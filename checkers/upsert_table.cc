#include "checkers/upsert_table.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "checkers/channel_state.h"
#include "checkers/sent_metadata.h"

namespace faultline::checkers {
namespace {

using engine::Record;

// Per key, the values the reference's sink gives it, in order.
using ValueLists = std::map<std::string, std::vector<int64_t>>;

ValueLists SinkValues(const ReferenceResult& ref) {
  ValueLists out;
  for (const Record& r : ref.sink) out[r.key].push_back(r.value);
  return out;
}

// The reference along the history that ends with attempt `epoch`'s own processing (after what it
// restored, in its logged order): what an upsert of that attempt may hold, though a later restore
// undid the attempt's state. Empty when the order log cannot tell.
ValueLists ValuesAlongAttempt(const RunView& run, uint64_t epoch) {
  if (run.order == nullptr || run.order->overflowed()) return {};
  KeyedOrders orders = OrdersOf(
      *run.setup, *run.order,
      [epoch](uint32_t) {
        return HistoryEnd{std::nullopt, epoch};
      },
      /*per_key=*/true, &run.rescaled_attempts);
  if (!orders.problems.empty()) return {};
  ReferenceInput input;
  for (const SourceRecord& s : run.sources) input.sources.push_back(s.record);
  input.order = std::move(orders.order);
  return SinkValues(Reference(run.setup->job).Run(std::move(input)));
}

// The reference at checkpoint `id`'s cut: the source records the histories to its snapshots
// emitted, along those histories, its channel state (unaligned) withheld where it was. Nothing
// for 0 (a start from the beginning of the input).
Result<ValueLists> ValuesAtCheckpoint(const RunView& run, uint64_t id) {
  if (id == 0) return ValueLists{};
  const std::string at = "checkpoint " + std::to_string(id);
  KeyedOrders orders = OrdersOf(
      *run.setup, *run.order,
      [id](uint32_t) {
        return HistoryEnd{id, std::nullopt};
      },
      /*per_key=*/true, &run.rescaled_attempts);
  if (!orders.problems.empty()) {
    return FailedPreconditionError("the histories up to " + at + ": " + orders.problems.front());
  }
  ReferenceInput input;
  if (run.rescaled_attempts.empty()) {
    std::unordered_set<uint64_t> emitted;  // provenance hashes of the sources before the cut
    for (const auto& [task, segments] : orders.histories) {
      for (const HistorySegment& s : segments) {
        for (size_t i = 0; i < s.emitted_end; ++i) emitted.insert(s.log->emitted[i].Hash());
      }
    }
    for (const SourceRecord& s : run.sources) {
      if (emitted.contains(s.id.Hash())) input.sources.push_back(s.record);
    }
  } else {
    // A rescaled run has no per-task histories: the sources before the cut are those before the
    // offsets its metadata records (its checkpoints are aligned).
    const SentBlobs sent(run);
    FL_ASSIGN_OR_RETURN(engine::proto::CheckpointMetadata metadata, SentMetadataOf(sent, id));
    FL_ASSIGN_OR_RETURN(SourceCut cut, SourceCutOf(sent, metadata));
    for (const SourceRecord& s : run.sources) {
      auto offset = cut.offsets.find(s.id.partition);
      if (offset != cut.offsets.end() && s.id.offset < offset->second) {
        input.sources.push_back(s.record);
      }
    }
  }
  input.order = std::move(orders.order);
  Result<RestoredChannels> channels = RestoredChannelsOf(SentBlobs(run), *run.setup, id);
  if (!channels.ok()) {
    return FailedPreconditionError("the channel state of " + at + ": " +
                                   channels.status().ToString());
  }
  const engine::ExecutionPlan& plan = run.setup->plan;
  for (auto& [channel, records] : *channels) {
    std::vector<Record>& withheld =
        input.withheld[plan.chains[plan.tasks[channel.first].chain].first_operator];
    withheld.insert(withheld.end(), records.begin(), records.end());
  }
  return SinkValues(Reference(run.setup->job).Run(std::move(input)));
}

// The checkpoint that the first attempt after `epoch` on the committed histories restored, where
// they leave the attempts up to `epoch`; unset when every history ends with such an attempt, or
// when the histories do not agree.
std::optional<uint64_t> LeftAfter(const KeyedOrders& orders, uint64_t epoch) {
  std::optional<uint64_t> left;
  for (const auto& [task, segments] : orders.histories) {
    for (const HistorySegment& s : segments) {
      if (s.log->attempt <= epoch) continue;
      if (!s.log->start_checkpoint || (left && *left != *s.log->start_checkpoint)) {
        return std::nullopt;
      }
      left = s.log->start_checkpoint;
      break;
    }
  }
  return left;
}

// LeftAfter for a rescaled run, whose histories are followed per key group: every task of an
// attempt starts from the same checkpoint, so the committed histories are one lineage of
// attempts, from where they end (a finished job's newest attempt, else the one that took the last
// completed checkpoint) back through the attempt that took each restored checkpoint.
std::optional<uint64_t> LeftAfterAlongLineage(const RunView& run, const OutputJudging& judging,
                                              uint64_t epoch) {
  std::map<uint64_t, uint64_t> start;  // attempt -> the checkpoint it restored
  std::map<uint64_t, uint64_t> taker;  // checkpoint -> the attempt that snapshotted it
  for (uint32_t task = 0; task < TaskIndexBound(*run.setup); ++task) {
    for (const AttemptLog* log : run.order->AttemptsOf(task)) {
      if (!log->start_checkpoint) return std::nullopt;
      auto [s, added] = start.try_emplace(log->attempt, *log->start_checkpoint);
      if (!added && s->second != *log->start_checkpoint) return std::nullopt;
      for (const LoggedSnapshot& snapshot : log->snapshots) {
        auto [t, new_taker] = taker.try_emplace(snapshot.checkpoint_id, log->attempt);
        if (!new_taker && t->second != log->attempt) return std::nullopt;
      }
    }
  }
  if (start.empty()) return std::nullopt;
  uint64_t current = start.rbegin()->first;
  if (!judging.finished && judging.last_completed) {
    auto t = taker.find(*judging.last_completed);
    if (t == taker.end()) return std::nullopt;
    current = t->second;
  }
  std::optional<uint64_t> left;
  // Each step moves to an older attempt.
  for (size_t step = 0; step <= start.size() && current > epoch; ++step) {
    auto s = start.find(current);
    if (s == start.end()) return std::nullopt;
    left = s->second;
    if (s->second == 0) break;  // from the beginning
    auto t = taker.find(s->second);
    if (t == taker.end() || t->second >= current) return std::nullopt;
    current = t->second;
  }
  return left;
}

// Removes from `values` one equal value per value of `taken` (the first left each).
std::vector<int64_t> Without(std::vector<int64_t> values, const std::vector<int64_t>& taken) {
  std::map<int64_t, size_t> take;
  for (int64_t v : taken) ++take[v];
  std::vector<int64_t> out;
  for (int64_t v : values) {
    auto it = take.find(v);
    if (it != take.end() && it->second > 0) {
      --it->second;
      continue;
    }
    out.push_back(v);
  }
  return out;
}

// Upserts that attempts wrote after the checkpoint a later attempt restored, which the committed
// histories never overwrote (upsert_table.h). Replays each attempt and checkpoint once.
class StaleUpserts {
 public:
  StaleUpserts(const RunView& run, const ReferenceResult& ref, const KeyedOrders* orders,
               const OutputJudging& judging)
      : run_(run), final_(SinkValues(ref)), orders_(orders), judging_(judging) {}

  // Whether `c`, the table's value of its key, is such an upsert. When R's cut cannot be replayed,
  // `c` is not judged (INCONCLUSIVE, order-unknown; `violation` says what it would be) and this
  // returns true.
  bool Explains(const CommittedRecord& c, const Violation& violation, Verdict& verdict) {
    if (orders_ == nullptr || run_.order == nullptr || run_.order->overflowed()) return false;
    const std::optional<uint64_t> restored = run_.rescaled_attempts.empty()
                                                 ? LeftAfter(*orders_, c.epoch)
                                                 : LeftAfterAlongLineage(run_, judging_, c.epoch);
    if (!restored) return false;  // the committed histories end with the attempt that wrote it
    auto at = at_checkpoint_.find(*restored);
    if (at == at_checkpoint_.end()) {
      at = at_checkpoint_.emplace(*restored, ValuesAtCheckpoint(run_, *restored)).first;
    }
    if (!at->second.ok()) {
      verdict.Unjudge(Unjudged::kOrderUnknown,
                      "whether attempt " + std::to_string(c.epoch) +
                          " wrote it after the checkpoint the next attempt restored is unknown (" +
                          at->second.status().ToString() + "): " + ToString(violation));
      return true;
    }
    const std::vector<int64_t>& at_cut = ValuesOf(*at->second, c.record.key);
    if (ValuesOf(final_, c.record.key).size() != at_cut.size()) return false;  // overwritten
    auto along = along_.find(c.epoch);
    if (along == along_.end()) {
      along = along_.emplace(c.epoch, ValuesAlongAttempt(run_, c.epoch)).first;
    }
    for (int64_t v : Without(ValuesOf(along->second, c.record.key), at_cut)) {
      if (v == c.record.value) {
        ++explained_;
        return true;
      }
    }
    return false;
  }

  void Note(Verdict& verdict) const {
    if (explained_ == 0) return;
    verdict.Note(std::to_string(explained_) +
                 " keys hold an upsert an attempt wrote after the checkpoint a later attempt "
                 "restored, which the restored attempts never overwrote (the reference along the "
                 "writer's history gives it)");
  }

 private:
  static const std::vector<int64_t>& ValuesOf(const ValueLists& lists, const std::string& key) {
    static const std::vector<int64_t> kNone;
    auto it = lists.find(key);
    return it == lists.end() ? kNone : it->second;
  }

  const RunView& run_;
  ValueLists final_;
  const KeyedOrders* orders_;
  const OutputJudging& judging_;
  std::map<uint64_t, Result<ValueLists>> at_checkpoint_;
  std::map<uint64_t, ValueLists> along_;
  uint64_t explained_ = 0;
};

}  // namespace

void CheckUpsertTable(const RunView& run, const ReferenceResult& ref, const KeyedOrders* orders,
                      const OutputJudging& judging, Verdict& verdict) {
  std::map<std::string, const CommittedRecord*> table;
  for (const CommittedRecord& c : run.committed) table[c.record.key] = &c;
  std::map<std::string, const Record*> want;
  std::map<std::string, std::set<int64_t>> ever;  // every value the reference's sink gives a key
  for (const Record& r : ref.sink) {
    want[r.key] = &r;
    if (!judging.finished) ever[r.key].insert(r.value);
  }
  std::map<uint64_t, ValueLists> along;  // by attempt, computed when needed
  const auto along_writer = [&](const CommittedRecord& c) {
    auto it = along.find(c.epoch);
    if (it == along.end()) it = along.emplace(c.epoch, ValuesAlongAttempt(run, c.epoch)).first;
    const std::vector<int64_t>& values = it->second[c.record.key];
    return std::find(values.begin(), values.end(), c.record.value) != values.end();
  };
  StaleUpserts stale(run, ref, orders, judging);
  for (const auto& [key, w] : want) {
    auto it = table.find(key);
    if (!judging.finished) {
      if (it == table.end() || ever[key].contains(it->second->record.value)) continue;
      if (along_writer(*it->second)) continue;
    } else if (it != table.end() && it->second->record.value == w->value) {
      continue;
    }
    Evidence e;
    e.key = key;
    if (it != table.end()) e.time = it->second->visible_at;
    e.detail = "final table holds " +
               (it == table.end() ? std::string("nothing") : FormatRecord(it->second->record)) +
               ", the reference " + FormatRecord(*w) +
               (judging.finished ? ""
                                 : " (the job did not finish: no value the reference gives "
                                   "the key at any point)");
    Violation v{"the upsert sink's final table differs from the reference", std::move(e)};
    if (judging.finished && it != table.end() && stale.Explains(*it->second, v, verdict)) continue;
    verdict.Fail(std::move(v));
  }
  if (!judging.finished && table.size() < want.size()) {
    verdict.Unjudge(Unjudged::kJobNotFinished,
                    "the job did not finish: " + std::to_string(want.size() - table.size()) +
                        " keys the reference writes are not in the upsert table yet");
  }
  for (const auto& [key, c] : table) {
    if (want.count(key) != 0) continue;
    Violation v{"the upsert sink's final table has a key the reference never emits",
                Evidence{.key = key, .time = c->visible_at}};
    if (!stale.Explains(*c, v, verdict)) verdict.Fail(std::move(v));
  }
  stale.Note(verdict);
}

}  // namespace faultline::checkers
