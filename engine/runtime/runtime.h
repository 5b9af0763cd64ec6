// Everything a process of the engine may use to reach the world, handed in at construction.
// The simulator implements it on virtual time; a real runtime can implement it with threads,
// sockets and files. Pointers are owned by the runtime and valid for the process's lifetime.
#pragma once

#include <string_view>

#include "engine/runtime/clock.h"
#include "engine/runtime/external.h"
#include "engine/runtime/ids.h"
#include "engine/runtime/scheduler.h"
#include "engine/runtime/storage.h"
#include "engine/runtime/transport.h"

namespace faultline::runtime {

// Engine-level events a process reports to the runtime: the simulator records them in the
// trace (and the fault library can trigger on them); a real runtime may log them.
struct EngineEvent {
  int64_t kind = 0;  // engine-defined
  int64_t args[3] = {0, 0, 0};
  std::string_view detail;
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void Record(const EngineEvent& event) = 0;
};

struct ProcessContext {
  NodeId node = kNoNode;
  uint64_t incarnation = 0;
  Clock* clock = nullptr;
  Scheduler* scheduler = nullptr;
  Transport* transport = nullptr;
  LocalFs* local_fs = nullptr;
  BlobStore* blob_store = nullptr;
  HaStore* ha_store = nullptr;
  SourceLog* source_log = nullptr;
  OutputStore* output_store = nullptr;
  EventSink* events = nullptr;
};

// Checks that every interface of a context is present.
bool IsComplete(const ProcessContext& context);

}  // namespace faultline::runtime
