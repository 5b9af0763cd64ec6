#include "checkers/reference.h"

#include <algorithm>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "base/assert.h"

namespace faultline::checkers {
namespace {

using engine::Record;

// Gives the input's provenance to the first output if that has none; later outputs keep what
// the function set (none by default), so each input is reflected once downstream.
class ProvenanceCollector : public engine::Collector {
 public:
  ProvenanceCollector(engine::Provenance input, std::vector<Record>& out)
      : input_(input), out_(out) {}
  void Emit(Record record) override {
    if (first_ && record.provenance.count == 0) record.provenance = input_;
    first_ = false;
    out_.push_back(std::move(record));
  }

 private:
  engine::Provenance input_;
  std::vector<Record>& out_;
  bool first_ = true;
};

// The current key's state over a KeyState. Reads never create entries, so an absent state
// stays absent, as in a backend that stores only what was written.
class MapKeyedContext final : public engine::KeyedContext, public ProvenanceCollector {
 public:
  MapKeyedContext(const Record& in, KeyState& state, std::vector<Record>& out)
      : ProvenanceCollector(in.provenance, out), key_(in.key), state_(state) {}

  const std::string& key() const override { return key_; }

  std::optional<int64_t> GetValue(std::string_view name) override {
    return Find(state_.values, name);
  }
  void SetValue(std::string_view name, int64_t value) override {
    Slot(state_.values, name) = value;
  }
  void ClearValue(std::string_view name) override {
    if (auto it = state_.values.find(name); it != state_.values.end()) state_.values.erase(it);
  }

  void AddToList(std::string_view name, int64_t value) override {
    Slot(state_.lists, name).push_back(value);
  }
  std::vector<int64_t> GetList(std::string_view name) override {
    auto it = state_.lists.find(name);
    return it == state_.lists.end() ? std::vector<int64_t>{} : it->second;
  }

  std::optional<int64_t> GetMapEntry(std::string_view name, std::string_view user_key) override {
    auto it = state_.maps.find(name);
    if (it == state_.maps.end()) return std::nullopt;
    return Find(it->second, user_key);
  }
  void PutMapEntry(std::string_view name, std::string_view user_key, int64_t value) override {
    Slot(Slot(state_.maps, name), user_key) = value;
  }
  void RemoveMapEntry(std::string_view name, std::string_view user_key) override {
    auto it = state_.maps.find(name);
    if (it == state_.maps.end()) return;
    if (auto entry = it->second.find(user_key); entry != it->second.end()) it->second.erase(entry);
    if (it->second.empty()) state_.maps.erase(it);  // no entries left: the state is absent
  }
  std::vector<std::pair<std::string, int64_t>> GetMap(std::string_view name) override {
    auto it = state_.maps.find(name);
    if (it == state_.maps.end()) return {};
    return {it->second.begin(), it->second.end()};  // std::map: user-key (bytewise) order
  }

  void AddToReducing(std::string_view name, int64_t value) override {
    auto it = state_.reducing.lower_bound(name);
    if (it == state_.reducing.end() || it->first != name) {
      state_.reducing.emplace_hint(it, std::string(name), value);
    } else {
      it->second += value;
    }
  }
  std::optional<int64_t> GetReducing(std::string_view name) override {
    return Find(state_.reducing, name);
  }

 private:
  template <typename Map>
  static std::optional<int64_t> Find(const Map& m, std::string_view name) {
    auto it = m.find(name);
    if (it == m.end()) return std::nullopt;
    return it->second;
  }
  // m[name], without building a string when the name is there.
  template <typename Map>
  static typename Map::mapped_type& Slot(Map& m, std::string_view name) {
    auto it = m.lower_bound(name);
    if (it == m.end() || it->first != name)
      it = m.emplace_hint(it, std::string(name), typename Map::mapped_type{});
    return it->second;
  }

  const std::string& key_;  // the input's: it outlives the context
  KeyState& state_;
};

// What tells two records of one key apart: value and provenance.
using Identity = std::tuple<int64_t, uint64_t, uint64_t>;
Identity IdentityOf(const Record& r) {
  return {r.value, r.provenance.count, r.provenance.hash_sum};
}

// Whether the logged records are all of `key` and, as a multiset of identities, the arrivals.
bool SameMultiset(const std::string& key, const std::vector<Record>& logged,
                  const std::vector<const Record*>& arrived) {
  if (logged.size() != arrived.size()) return false;
  // Usually the log has them in arrival order: equal position by position, no sorting.
  size_t same = 0;
  while (same < logged.size() && logged[same].key == key &&
         IdentityOf(logged[same]) == IdentityOf(*arrived[same])) {
    ++same;
  }
  if (same == logged.size()) return true;
  std::vector<Identity> a;
  std::vector<Identity> b;
  a.reserve(logged.size());
  b.reserve(arrived.size());
  for (const Record& r : logged) {
    if (r.key != key) return false;
    a.push_back(IdentityOf(r));
  }
  for (const Record* r : arrived) b.push_back(IdentityOf(*r));
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

// One key's records in the order to process them.
struct KeyQueue {
  std::vector<const Record*> records;
  // By position in `records`: a repeat (ReferenceInput::repeats), not one of the arrivals. Empty
  // when there is none.
  std::vector<bool> repeat;
};

// One key's queue: the logged order first (each logged record matched to one arriving record),
// then the arriving records the log did not name, in stream order. Logged records that do not
// arrive (or not that often) go to `unmatched`, or with `repeats` into the queue as repeats when
// they arrive at least once.
KeyQueue QueueOfKey(uint32_t op, const std::string& key, const std::vector<Record>* logged,
                    const std::vector<const Record*>& arrived, bool repeats,
                    std::vector<UnmatchedRecord>& unmatched) {
  KeyQueue out;
  std::vector<const Record*>& queue = out.records;
  queue.reserve(arrived.size());
  if (logged == nullptr || logged->empty()) {
    queue.assign(arrived.begin(), arrived.end());
    return out;
  }
  if (SameMultiset(key, *logged, arrived)) {  // every logged record matched, every arrival taken
    for (const Record& r : *logged) queue.push_back(&r);
    return out;
  }
  std::map<Identity, uint64_t> arriving;
  for (const Record* r : arrived) ++arriving[IdentityOf(*r)];
  std::map<Identity, uint64_t> taken;
  for (const Record& r : *logged) {
    if (r.key != key) {
      unmatched.push_back(UnmatchedRecord{op, r});
      continue;
    }
    auto left = arriving.find(IdentityOf(r));
    if (left != arriving.end() && left->second == 0 && repeats) {
      out.repeat.resize(queue.size() + 1, false);
      out.repeat.back() = true;
      queue.push_back(&r);
      continue;
    }
    if (left == arriving.end() || left->second == 0) {
      unmatched.push_back(UnmatchedRecord{op, r});
      continue;
    }
    --left->second;
    ++taken[IdentityOf(r)];
    queue.push_back(&r);
  }
  for (const Record* r : arrived) {
    auto already = taken.find(IdentityOf(*r));
    if (already != taken.end() && already->second > 0) {
      --already->second;
      continue;
    }
    queue.push_back(r);
  }
  if (!out.repeat.empty()) out.repeat.resize(queue.size(), false);
  return out;
}

// What the edge into `op` does to the stream.
std::vector<Record> Partition(const engine::OperatorSpec& op, std::vector<Record> stream) {
  switch (op.input_partitioner) {
    case engine::Partitioner::kHash:
      for (Record& r : stream) r.key = op.key_selector(r);
      return stream;
    case engine::Partitioner::kBroadcast: {
      std::vector<Record> copies;
      copies.reserve(stream.size() * op.parallelism);
      for (const Record& r : stream) copies.insert(copies.end(), op.parallelism, r);
      return copies;
    }
    case engine::Partitioner::kForward:
    case engine::Partitioner::kRebalance:
      return stream;  // they decide where a record goes, not what it is
  }
  FL_UNREACHABLE("unknown partitioner");
}

void ApplyStateless(const engine::OperatorSpec& op, const Record& in, std::vector<Record>& out) {
  switch (op.kind) {
    case engine::OperatorKind::kSource:
    case engine::OperatorKind::kSink:
      out.push_back(in);
      return;
    case engine::OperatorKind::kMap: {
      Record mapped = op.map(in);
      if (mapped.provenance.count == 0) mapped.provenance = in.provenance;
      out.push_back(std::move(mapped));
      return;
    }
    case engine::OperatorKind::kFilter:
      if (op.filter(in)) out.push_back(in);
      return;
    case engine::OperatorKind::kFlatMap: {
      ProvenanceCollector collector(in.provenance, out);
      op.flat_map(in, collector);
      return;
    }
    case engine::OperatorKind::kKeyedProcess:
      break;
  }
  FL_UNREACHABLE("a keyed operator is not stateless");
}

// Takes one arriving record out of `stream` per withheld record (by key, value and provenance:
// records without provenance are told apart by key and value only: the latest of equal ones
// goes); a withheld record with none left goes to `unmatched`.
void Withhold(uint32_t op, const std::vector<Record>& withheld, std::vector<Record>& stream,
              std::vector<UnmatchedRecord>& unmatched) {
  using Keyed = std::tuple<std::string, int64_t, uint64_t, uint64_t>;
  auto keyed = [](const Record& r) {
    return Keyed{r.key, r.value, r.provenance.count, r.provenance.hash_sum};
  };
  std::map<Keyed, uint64_t> take;
  for (const Record& r : withheld) ++take[keyed(r)];
  // The latest equal arrivals go: what is in flight was sent last.
  std::vector<bool> gone(stream.size(), false);
  for (size_t i = stream.size(); i-- > 0;) {
    auto it = take.find(keyed(stream[i]));
    if (it != take.end() && it->second > 0) {
      --it->second;
      gone[i] = true;
    }
  }
  std::vector<Record> kept;
  kept.reserve(stream.size());
  for (size_t i = 0; i < stream.size(); ++i) {
    if (!gone[i]) kept.push_back(std::move(stream[i]));
  }
  stream = std::move(kept);
  for (const Record& r : withheld) {
    auto it = take.find(keyed(r));
    if (it->second == 0) continue;
    --it->second;
    unmatched.push_back(UnmatchedRecord{op, r});
  }
}

}  // namespace

ReferenceResult Reference::Run(const ReferenceInput& input) const {
  return RunFrom(input.sources, input);
}

ReferenceResult Reference::Run(ReferenceInput&& input) const {
  std::vector<Record> stream = std::move(input.sources);
  return RunFrom(std::move(stream), input);
}

ReferenceResult Reference::RunFrom(std::vector<Record> stream, const ReferenceInput& input) const {
  ReferenceResult result;
  for (uint32_t i = 1; i < job_.operators.size(); ++i) {
    stream = RunOperator(i, std::move(stream), input, result);
  }
  return result;
}

std::vector<Record> Reference::RunStateless(uint32_t first, uint32_t last, const Record& in) const {
  FL_ASSERT(first <= last && last < job_.operators.size());
  std::vector<Record> stream{in};
  for (uint32_t i = first; i <= last; ++i) {
    if (i > first) stream = Partition(job_.operators[i], std::move(stream));  // a broadcast copies
    const engine::OperatorSpec& op = job_.operators[i];
    // One record out per record in: in place (as ApplyStateless, without a second vector).
    if (op.kind == engine::OperatorKind::kSource || op.kind == engine::OperatorKind::kSink) {
      continue;
    }
    if (op.kind == engine::OperatorKind::kMap) {
      for (Record& r : stream) {
        Record mapped = op.map(r);
        if (mapped.provenance.count == 0) mapped.provenance = r.provenance;
        r = std::move(mapped);
      }
      continue;
    }
    std::vector<Record> next;
    for (const Record& r : stream) ApplyStateless(op, r, next);
    stream = std::move(next);
  }
  return stream;
}

void Reference::ApplyStatelessOperator(uint32_t index, const Record& in,
                                       std::vector<Record>& out) const {
  FL_ASSERT(index < job_.operators.size());
  ApplyStateless(job_.operators[index], in, out);
}

std::vector<Record> Reference::Arriving(uint32_t index, const Record& source) const {
  FL_ASSERT(index > 0 && index < job_.operators.size());
  return Partition(job_.operators[index], RunStateless(0, index - 1, source));
}

void Reference::AppendArriving(uint32_t index, const Record& source,
                               std::vector<Record>& out) const {
  FL_ASSERT(index > 0 && index < job_.operators.size());
  const auto one_to_one = [this](uint32_t i) {
    const engine::OperatorSpec& op = job_.operators[i];
    return op.input_partitioner != engine::Partitioner::kBroadcast &&
           (op.kind == engine::OperatorKind::kMap || op.kind == engine::OperatorKind::kSink);
  };
  bool simple = job_.operators[index].input_partitioner != engine::Partitioner::kBroadcast;
  for (uint32_t i = 1; i < index && simple; ++i) simple = one_to_one(i);
  if (!simple) {
    for (Record& r : Arriving(index, source)) out.push_back(std::move(r));
    return;
  }
  // RunStateless and Partition, for one record: each edge, then each operator.
  Record r = source;
  for (uint32_t i = 1; i <= index; ++i) {
    const engine::OperatorSpec& op = job_.operators[i];
    if (op.input_partitioner == engine::Partitioner::kHash) r.key = op.key_selector(r);
    if (i == index || op.kind != engine::OperatorKind::kMap) continue;
    Record mapped = op.map(r);
    if (mapped.provenance.count == 0) mapped.provenance = r.provenance;
    r = std::move(mapped);
  }
  out.push_back(std::move(r));
}

std::vector<Record> Reference::ArrivingFrom(uint32_t at, uint32_t index, const Record& in) const {
  FL_ASSERT(at > 0 && at <= index && index < job_.operators.size());
  if (at == index) return {in};
  return Partition(job_.operators[index], RunStateless(at, index - 1, in));
}

void Reference::ProcessKeyed(uint32_t index, const Record& in, KeyState& state,
                             std::vector<Record>& out) const {
  const engine::OperatorSpec& op = job_.operators[index];
  FL_ASSERT(op.kind == engine::OperatorKind::kKeyedProcess);
  state.provenance += in.provenance;
  MapKeyedContext context(in, state, out);
  op.keyed_process->Process(in, context, context);
}

std::vector<Record> Reference::RunOperator(uint32_t index, std::vector<Record> stream,
                                           const ReferenceInput& input,
                                           ReferenceResult& result) const {
  const engine::OperatorSpec& op = job_.operators[index];
  stream = Partition(op, std::move(stream));
  if (auto withheld = input.withheld.find(index); withheld != input.withheld.end()) {
    Withhold(index, withheld->second, stream, result.unmatched_withheld);
  }
  switch (op.kind) {
    case engine::OperatorKind::kKeyedProcess: {
      auto it = input.order.find(index);
      return RunKeyed(index, stream, it == input.order.end() ? nullptr : &it->second, input.repeats,
                      result);
    }
    case engine::OperatorKind::kSink:
      result.sink.insert(result.sink.end(), stream.begin(), stream.end());
      return {};
    case engine::OperatorKind::kMap:
    case engine::OperatorKind::kFilter:
    case engine::OperatorKind::kFlatMap: {
      std::vector<Record> out;
      out.reserve(stream.size());
      for (const Record& r : stream) ApplyStateless(op, r, out);
      return out;
    }
    case engine::OperatorKind::kSource:
      break;
  }
  FL_UNREACHABLE("a source after the first operator");
}

std::vector<Record> Reference::RunKeyed(uint32_t index, const std::vector<Record>& stream,
                                        const KeyOrder* order, bool repeats,
                                        ReferenceResult& result) const {
  // Keys by first arrival; each stream position's key, and each key's arriving records.
  std::unordered_map<std::string_view, uint32_t> ids;
  std::vector<std::string_view> keys;
  std::vector<uint32_t> slot_key;
  slot_key.reserve(stream.size());
  std::vector<std::vector<const Record*>> arrived;
  for (const Record& r : stream) {
    auto [it, inserted] = ids.try_emplace(r.key, static_cast<uint32_t>(keys.size()));
    if (inserted) {
      keys.push_back(r.key);
      arrived.emplace_back();
    }
    slot_key.push_back(it->second);
    arrived[it->second].push_back(&r);
  }
  // The queues, the logged keys in key order first (as the unmatched records are reported).
  std::vector<KeyQueue> queues(keys.size());
  std::vector<bool> queued(keys.size(), false);
  static const std::vector<const Record*> kNone;
  if (order != nullptr) {
    for (const auto& [key, records] : *order) {
      auto it = ids.find(key);
      const std::vector<const Record*>& in = it == ids.end() ? kNone : arrived[it->second];
      KeyQueue queue = QueueOfKey(index, key, &records, in, repeats, result.unmatched);
      if (it != ids.end()) {
        queues[it->second] = std::move(queue);
        queued[it->second] = true;
      }
    }
  }
  for (uint32_t k = 0; k < keys.size(); ++k) {
    if (!queued[k]) queues[k].records = arrived[k];
  }
  // Each stream position takes its key's next record: keys interleave as they arrive, and
  // each key's records follow the requested order. Repeats go where the log has them: with
  // the arrival after them, or after the key's last arrival.
  std::vector<KeyState> states(keys.size());
  std::vector<size_t> next(keys.size(), 0);
  std::vector<Record> out;
  out.reserve(stream.size());
  auto take_repeats = [&](uint32_t k) {
    const KeyQueue& q = queues[k];
    while (next[k] < q.repeat.size() && q.repeat[next[k]]) {
      ProcessKeyed(index, *q.records[next[k]++], states[k], out);
    }
  };
  for (uint32_t k : slot_key) {
    take_repeats(k);
    FL_ASSERT(next[k] < queues[k].records.size(), "every arriving record was queued once");
    ProcessKeyed(index, *queues[k].records[next[k]++], states[k], out);
  }
  for (uint32_t k = 0; k < keys.size(); ++k) {
    take_repeats(k);
    FL_ASSERT(next[k] == queues[k].records.size(), "every queued record was processed");
  }
  KeyStates& state_of = result.state[index];
  KeyOrder& processed = result.processed[index];
  for (uint32_t k = 0; k < keys.size(); ++k) {
    const std::string key(keys[k]);
    std::vector<Record>& records = processed[key];
    records.reserve(records.size() + queues[k].records.size());
    for (const Record* r : queues[k].records) records.push_back(*r);
    state_of[key] = std::move(states[k]);
  }
  return out;
}

}  // namespace faultline::checkers
