// The reference interpreter (ORACLES.md, "Ground truth"): the job's semantics run sequentially,
// one operator at a time over the whole stream, with keyed state in plain std::maps. No key
// groups, no network, no checkpoints, no faults, and no code shared with engine/exec or the
// state backends, so an engine bug cannot cancel itself out. It calls the user's functions,
// which must be deterministic.
//
// Semantics it implements (the job API's contract, restated independently):
//  - the source emits the records given, each carrying its own provenance;
//  - map output without provenance takes its input's; filter keeps or drops; flat_map and keyed
//    process functions give their input's provenance to their first output if it has none,
//    and later outputs keep what the function set, none by default (so each source record is
//    reflected once downstream);
//  - a hash edge sets the record's key with the next operator's key selector; a broadcast edge
//    copies each record to every parallel instance of the next operator;
//  - a keyed process function sees per key the state its earlier records of that key left; the
//    key's provenance state is the sum of the provenance of every record that reached it;
//  - reducing state folds with sum (the API offers no other reduce function).
//
// Order. Results that depend on order are computed in a given per-key order: for a keyed
// operator, each key's records in the order the engine logged them (ReferenceInput::order).
// Records of a key absent from that order follow it in stream order; logged records that are
// not among the operator's inputs (or appear more often) are reported, not processed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/api/job.h"
#include "engine/api/record.h"

namespace faultline::checkers {

// The final state of one key of a keyed operator, by state name and kind.
struct KeyState {
  // By state name; std::less<> finds a name by its string_view without a copy.
  std::map<std::string, int64_t, std::less<>> values;
  std::map<std::string, std::vector<int64_t>, std::less<>> lists;
  std::map<std::string, std::map<std::string, int64_t, std::less<>>, std::less<>> maps;
  std::map<std::string, int64_t, std::less<>> reducing;
  engine::Provenance provenance;  // every record that reached the key
  bool operator==(const KeyState&) const = default;
};

using KeyStates = std::map<std::string, KeyState>;  // key -> state
// key -> that key's records in the order an operator saw them (key already set).
using KeyOrder = std::map<std::string, std::vector<engine::Record>>;

struct ReferenceInput {
  // The source records, provenance set from their ids, in the order the source emits them.
  std::vector<engine::Record> sources;
  // Keyed operator index -> the per-key order to process its records in. Optional.
  std::map<uint32_t, KeyOrder> order;
  // Operator index -> records on its input channels it has not processed (an unaligned
  // checkpoint's channel state, past the edge into it): each is taken out of the operator's input
  // (one arriving record with its value and provenance) before the operator runs, so neither it
  // nor anything it would become reaches the operators after. Optional.
  std::map<uint32_t, std::vector<engine::Record>> withheld;
  // At-least-once: a keyed operator's logged record that arrives there fewer times than logged
  // (but at least once) was processed again after a restore, its source replaying from the
  // restored offsets while the operator's state had already counted it before its snapshot
  // (its barriers are not aligned). With this set it is processed as often as the log has it,
  // each time where the log has it (a repeat); without it the extra ones go to `unmatched`.
  bool repeats = false;
};

// A logged record the reference could not place: not among the operator's inputs for its key,
// or logged more often than it arrives.
struct UnmatchedRecord {
  uint32_t op = 0;
  engine::Record record;
};

struct ReferenceResult {
  // What reaches the sink operator, in processing order.
  std::vector<engine::Record> sink;
  // Keyed operator index -> key -> final state.
  std::map<uint32_t, KeyStates> state;
  // Keyed operator index -> key -> the records processed for the key, in order.
  std::map<uint32_t, KeyOrder> processed;
  std::vector<UnmatchedRecord> unmatched;
  // Withheld records that do not arrive at their operator (or not that often).
  std::vector<UnmatchedRecord> unmatched_withheld;
};

class Reference {
 public:
  // `job` must outlive the reference.
  explicit Reference(const engine::JobGraph& job) : job_(job) {}

  ReferenceResult Run(const ReferenceInput& input) const;
  // The same, taking the input's records instead of copying them.
  ReferenceResult Run(ReferenceInput&& input) const;

  // The records operators [first, last] turn `in` (on the input of `first`, past its edge) into,
  // through the edges between them (a broadcast edge copies). REQUIRES: no keyed operator in the
  // range (stateless operators only); a source or sink operator passes records through.
  std::vector<engine::Record> RunStateless(uint32_t first, uint32_t last,
                                           const engine::Record& in) const;
  // RunStateless(index, index, in), appended to `out` (no vector of its own).
  void ApplyStatelessOperator(uint32_t index, const engine::Record& in,
                              std::vector<engine::Record>& out) const;

  // The records the source record `source` brings to the input of operator `index` (> 0): its
  // outputs through the operators before it, which must all be stateless, then the input edge
  // of `index`. A stream of source records arrives at `index` as the concatenation of these.
  std::vector<engine::Record> Arriving(uint32_t index, const engine::Record& source) const;
  // The same, appended to `out`: without a vector of its own when each operator before `index`
  // turns one record into one (maps, no broadcast edge), the usual job.
  void AppendArriving(uint32_t index, const engine::Record& source,
                      std::vector<engine::Record>& out) const;
  // The records that `in`, on the input of operator `at` (past its edge, not yet processed),
  // brings to the input of operator `index` (>= at): itself when `index` is `at`, else its
  // outputs through the operators [at, index), which must all be stateless, then the input edge
  // of `index`.
  std::vector<engine::Record> ArrivingFrom(uint32_t at, uint32_t index,
                                           const engine::Record& in) const;

  // Processes `in` (its key set) as the keyed operator `index` does, on its key's `state`, and
  // appends what it emits to `out`: one step of Run's per-key fold.
  void ProcessKeyed(uint32_t index, const engine::Record& in, KeyState& state,
                    std::vector<engine::Record>& out) const;

  const engine::JobGraph& job() const { return job_; }

 private:
  // Run over `stream` (the source records) with the order of `input`.
  ReferenceResult RunFrom(std::vector<engine::Record> stream, const ReferenceInput& input) const;
  std::vector<engine::Record> RunOperator(uint32_t index, std::vector<engine::Record> stream,
                                          const ReferenceInput& input,
                                          ReferenceResult& result) const;
  std::vector<engine::Record> RunKeyed(uint32_t index, const std::vector<engine::Record>& stream,
                                       const KeyOrder* order, bool repeats,
                                       ReferenceResult& result) const;

  const engine::JobGraph& job_;
};

}  // namespace faultline::checkers
