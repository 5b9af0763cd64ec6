// The reference's keyed state at a series of cuts (EO-CUT), extended from cut to cut instead of
// replayed from scratch for each.
//
// For one keyed operator whose upstream operators are all stateless (the first keyed operator of
// the job), Reference::Run over "the source records before the cut, in the per-key order of the
// histories up to the checkpoint" gives each key the state of folding the keyed function over the
// key's queue: its logged records matched to arriving ones (in logged order), then the arriving
// records the log did not name (in stream order); logged records that do not arrive are skipped.
// The keys do not interact, so that fold is computed per key, here, and kept: at the next cut a
// key whose queue extends the one its state reflects (the usual case: checkpoints along one
// lineage of attempts are prefixes of one another) is brought forward by processing only the new
// records; any other key (after a restore its order may differ) is folded again from its first
// record. Either way each key's state, and the records processed for it, are exactly what
// Reference::Run gives for the same input (cut_reference_test.cc compares them on recorded runs
// with restores, fallbacks, unaligned channel state and concurrent checkpoints).
//
// The cost of a cut, in the usual step (no record before the previous cut missing, each task's
// history grown in its last segment): the records new at it, appended to the previous cut's
// per-key lists, and for each key that received some a comparison of its lists with what its
// state reflects plus the keyed function for the new records. Any other step gathers every key's
// records from scratch: a pass over the source records and the histories (integer work: keys are
// interned once per run).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "checkers/history.h"
#include "checkers/keyed_state.h"
#include "checkers/reference.h"
#include "checkers/run_view.h"
#include "engine/exec/cluster.h"

namespace faultline::checkers {

class CutReference {
 public:
  // `op` must be the job's first keyed operator; `index` indexes `sources`. `setup`, `sources`
  // and `index` must outlive this.
  CutReference(const engine::JobSetup& setup, const std::vector<SourceRecord>& sources,
               const SourceIndex& index, uint32_t op);

  // Moves to a cut: the records before it are the sources i with included[i] (in source order),
  // less `withheld`: records on the operator's input that it had not processed at the cut (an
  // unaligned checkpoint's channel state, brought to the operator's input by
  // Reference::ArrivingFrom), each taking out one arriving record of an included source with its
  // key, value and provenance (one without single-record provenance: the latest arrival of its
  // key equal to it, as Reference::Run takes out); those with none to take out are returned. Each
  // key's logged order is its records in the histories of `orders` (null: none) of the operator's
  // tasks, in task order, oldest segment first. The histories' logs must outlive the next Advance.
  // The included sources as ranges [first, second) of their indices, ascending and disjoint: a
  // cut's records are a prefix of each partition. A cut whose ranges cover the previous cut's
  // costs the records new at it, not a pass over every source record.
  using SourceRanges = std::vector<std::pair<uint32_t, uint32_t>>;
  std::vector<engine::Record> Advance(const SourceRanges& included, const KeyedOrders* orders,
                                      const std::vector<engine::Record>& withheld = {});
  // The same with included[i] per source record.
  std::vector<engine::Record> Advance(const std::vector<bool>& included, const KeyedOrders* orders,
                                      const std::vector<engine::Record>& withheld = {});

  struct KeyAt {
    const std::string* key;
    const KeyState* state;
    const std::optional<KeyDigest>* digest;  // DigestOf(its group, *key, *state), kept
  };
  // The keys with records at the current cut (in no particular order), each with its state.
  std::vector<KeyAt> Keys() const;
  // The records processed for `key` at the current cut, in order; empty for an unknown key.
  std::vector<engine::Record> Processed(std::string_view key) const;
  // The records the histories logged for `key` at the current cut, in order.
  std::vector<engine::Record> Logged(std::string_view key) const;

  // How each key with records was brought to the current cut, counted over every Advance.
  struct Stats {
    uint64_t extended = 0;   // from its previous state, by the records new at the cut
    uint64_t refolded = 0;   // from its first record (its first cut, or the queue changed)
    uint64_t processed = 0;  // records the keyed function processed
  };
  const Stats& stats() const { return stats_; }

 private:
  struct KeyEntry {
    std::vector<const engine::Record*> logged;  // this cut's logged order
    std::vector<uint32_t> arrived;  // this cut's arrivals (indices into arrivals_, ascending)
    std::vector<uint32_t> added;    // those GatherAppended added at this cut
    // What `state` reflects: the queue it folded, and (when `clean`: the logged order and the
    // arrivals were equal multisets, so the queue is the logged order) the arrivals it matched.
    std::vector<const engine::Record*> queue;
    std::vector<uint32_t> queue_arrivals;
    bool clean = false;
    KeyState state;
    // DigestOf(group, key, state), computed by Keys() when `digest_stale`: a key untouched since
    // the previous cut keeps its state and so its digest.
    mutable std::optional<KeyDigest> digest;
    mutable bool digest_stale = true;
    size_t last_task = 0;  // the task (index into tasks_) of the last logged record
    bool touched = false;  // its lists changed at this cut
  };
  using Histories = std::vector<const std::vector<HistorySegment>*>;  // by index into tasks_
  struct Arrival {
    uint32_t key = 0;
    engine::Record record;
  };

  uint32_t Intern(const std::string& key);
  const std::vector<uint32_t>& KeysOf(const AttemptLog& log);
  std::vector<engine::Record> Include(const SourceRanges& included,
                                      const std::vector<engine::Record>& withheld);
  bool IncludeAdded(const SourceRanges& included);
  std::vector<engine::Record> Withhold(const std::vector<engine::Record>& withheld);
  void NetChange(const std::vector<uint32_t>& previously_taken);
  void Gather(const KeyedOrders* orders);
  void GatherAll(const Histories& histories);
  bool GatherAppended(bool ordered, const Histories& histories);
  void AppendLogged(const HistorySegment& segment, size_t from, size_t task);
  bool Extend(KeyEntry& entry);
  void Refold(KeyEntry& entry);
  void Process(KeyEntry& entry, size_t from);
  const KeyEntry* Find(std::string_view key) const;

  const Reference reference_;
  const uint32_t op_;
  const std::vector<uint32_t> tasks_;    // the operator's tasks, in OrdersOf's order
  std::vector<uint32_t> first_arrival_;  // source i's arrivals: [first_arrival_[i], [i + 1])
  std::vector<Arrival> arrivals_;
  const SourceIndex& index_;                            // provenance hash -> first source
  std::vector<std::vector<uint32_t>> arrivals_of_key_;  // key id -> its arrivals, ascending
  // Per arrival: at the operator's input at the current cut (1) or not (0).
  std::vector<uint8_t> arrival_in_;
  SourceRanges ranges_;          // the current cut's included sources
  std::vector<uint32_t> taken_;  // the arrivals its withheld records took out, ascending
  // From the previous cut to the current one (Include): the arrivals newly included (ascending),
  // and whether arrival_in_ only gained arrivals (`came_in_` then lists every one it gained).
  std::vector<uint32_t> added_;
  std::vector<uint32_t> came_in_;
  bool only_gained_ = false;
  std::unordered_map<std::string, uint32_t> key_ids_;
  std::vector<std::string> key_names_;
  std::vector<KeyEntry> entries_;  // by key id
  std::unordered_map<const AttemptLog*, std::vector<uint32_t>> logged_keys_;
  // What the previous cut gathered from, to extend it (Gather).
  bool previous_ = false;
  bool previous_ordered_ = false;
  // This cut's lists are the previous cut's with records added (GatherAppended): each touched
  // key's state then reflects a prefix of them.
  bool appended_ = false;
  std::vector<std::optional<std::vector<HistorySegment>>> previous_histories_;
  std::vector<engine::Record> scratch_;  // the keyed function's outputs (not needed here)
  // Extend's identities of the records new at the cut (kept to reuse their memory).
  std::vector<std::tuple<int64_t, uint64_t, uint64_t>> new_logged_;
  std::vector<std::tuple<int64_t, uint64_t, uint64_t>> new_arrived_;
  Stats stats_;
};

}  // namespace faultline::checkers
