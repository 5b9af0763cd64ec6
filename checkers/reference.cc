#include "checkers/reference.h"

#include <deque>
#include <tuple>
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
    state_.values[std::string(name)] = value;
  }
  void ClearValue(std::string_view name) override { state_.values.erase(std::string(name)); }

  void AddToList(std::string_view name, int64_t value) override {
    state_.lists[std::string(name)].push_back(value);
  }
  std::vector<int64_t> GetList(std::string_view name) override {
    auto it = state_.lists.find(std::string(name));
    return it == state_.lists.end() ? std::vector<int64_t>{} : it->second;
  }

  std::optional<int64_t> GetMapEntry(std::string_view name, std::string_view user_key) override {
    auto it = state_.maps.find(std::string(name));
    if (it == state_.maps.end()) return std::nullopt;
    return Find(it->second, user_key);
  }
  void PutMapEntry(std::string_view name, std::string_view user_key, int64_t value) override {
    state_.maps[std::string(name)][std::string(user_key)] = value;
  }
  void RemoveMapEntry(std::string_view name, std::string_view user_key) override {
    auto it = state_.maps.find(std::string(name));
    if (it == state_.maps.end()) return;
    it->second.erase(std::string(user_key));
    if (it->second.empty()) state_.maps.erase(it);  // no entries left: the state is absent
  }
  std::vector<std::pair<std::string, int64_t>> GetMap(std::string_view name) override {
    auto it = state_.maps.find(std::string(name));
    if (it == state_.maps.end()) return {};
    return {it->second.begin(), it->second.end()};  // std::map: user-key (bytewise) order
  }

  void AddToReducing(std::string_view name, int64_t value) override {
    auto [it, inserted] = state_.reducing.try_emplace(std::string(name), value);
    if (!inserted) it->second += value;
  }
  std::optional<int64_t> GetReducing(std::string_view name) override {
    return Find(state_.reducing, name);
  }

 private:
  static std::optional<int64_t> Find(const std::map<std::string, int64_t>& m,
                                     std::string_view name) {
    auto it = m.find(std::string(name));
    if (it == m.end()) return std::nullopt;
    return it->second;
  }

  std::string key_;
  KeyState& state_;
};

// What tells two records of one key apart: value and provenance.
using Identity = std::tuple<int64_t, uint64_t, uint64_t>;
Identity IdentityOf(const Record& r) {
  return {r.value, r.provenance.count, r.provenance.hash_sum};
}

// Per key, the records in the order to process them: the logged order first (each logged
// record matched to one arriving record), then the arriving records the log did not name.
std::map<std::string, std::deque<Record>> QueueByKey(uint32_t op, const std::vector<Record>& stream,
                                                     const KeyOrder* order,
                                                     std::vector<UnmatchedRecord>& unmatched) {
  std::map<std::string, std::map<Identity, uint64_t>> arriving;
  for (const Record& r : stream) ++arriving[r.key][IdentityOf(r)];
  std::map<std::string, std::map<Identity, uint64_t>> taken;
  std::map<std::string, std::deque<Record>> queues;
  if (order != nullptr) {
    for (const auto& [key, records] : *order) {
      for (const Record& r : records) {
        uint64_t& left = arriving[key][IdentityOf(r)];
        if (left == 0 || r.key != key) {
          unmatched.push_back(UnmatchedRecord{op, r});
          continue;
        }
        --left;
        ++taken[key][IdentityOf(r)];
        queues[key].push_back(r);
      }
    }
  }
  for (const Record& r : stream) {
    uint64_t& already = taken[r.key][IdentityOf(r)];
    if (already > 0) {
      --already;
      continue;
    }
    queues[r.key].push_back(r);
  }
  return queues;
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

}  // namespace

ReferenceResult Reference::Run(const ReferenceInput& input) const {
  ReferenceResult result;
  std::vector<Record> stream = input.sources;
  for (uint32_t i = 1; i < job_.operators.size(); ++i) {
    stream = RunOperator(i, std::move(stream), input, result);
  }
  return result;
}

std::vector<Record> Reference::RunStateless(uint32_t first, uint32_t last, const Record& in) const {
  FL_ASSERT(first <= last && last < job_.operators.size());
  std::vector<Record> stream{in};
  for (uint32_t i = first; i <= last; ++i) {
    std::vector<Record> next;
    for (const Record& r : stream) ApplyStateless(job_.operators[i], r, next);
    stream = std::move(next);
  }
  return stream;
}

std::vector<Record> Reference::Arriving(uint32_t index, const Record& source) const {
  FL_ASSERT(index > 0 && index < job_.operators.size());
  return Partition(job_.operators[index], RunStateless(0, index - 1, source));
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
  switch (op.kind) {
    case engine::OperatorKind::kKeyedProcess: {
      auto it = input.order.find(index);
      return RunKeyed(index, stream, it == input.order.end() ? nullptr : &it->second, result);
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
                                        const KeyOrder* order, ReferenceResult& result) const {
  std::map<std::string, std::deque<Record>> queues =
      QueueByKey(index, stream, order, result.unmatched);
  KeyStates& states = result.state[index];
  KeyOrder& processed = result.processed[index];
  std::vector<Record> out;
  // Each stream position takes its key's next record: keys interleave as they arrive, and
  // each key's records follow the requested order.
  for (const Record& slot : stream) {
    std::deque<Record>& queue = queues[slot.key];
    FL_ASSERT(!queue.empty(), "every arriving record was queued once");
    Record in = std::move(queue.front());
    queue.pop_front();
    ProcessKeyed(index, in, states[in.key], out);
    processed[in.key].push_back(std::move(in));
  }
  return out;
}

}  // namespace faultline::checkers
