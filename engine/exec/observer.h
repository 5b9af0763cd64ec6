// A side channel for checkers: what each task processed, in order, and where its barriers and
// restores fell. An observer only records; it never steers the run, so installing one leaves
// the trace hash unchanged. Null outside tests and scenario runs.
#pragma once

#include <cstdint>

#include "engine/api/record.h"

namespace faultline::engine {

class ProcessingObserver {
 public:
  virtual ~ProcessingObserver() = default;
  // Source task `task` of `attempt` emitted the record `id` (offset order per partition).
  virtual void OnSourceEmit(uint32_t task, uint64_t attempt, const RecordId& id) = 0;
  // Task `task` took `record` from its input channel `input` into its chain.
  virtual void OnProcess(uint32_t task, uint64_t attempt, uint32_t input, const Record& record) = 0;
  // Task `task` captured its state for checkpoint `checkpoint_id`: records it reported before
  // are in the snapshot, records after are not.
  virtual void OnSnapshot(uint32_t task, uint64_t attempt, uint64_t checkpoint_id) = 0;
  // Task `task` of `attempt` starts from checkpoint `checkpoint_id` (0: from scratch).
  virtual void OnStart(uint32_t task, uint64_t attempt, uint64_t checkpoint_id) = 0;
};

}  // namespace faultline::engine
