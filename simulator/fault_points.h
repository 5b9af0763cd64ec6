// Typed fault points: the places in the simulated world where a fault library may intervene,
// listed in one place. Each kernel component asks FaultHooks at its points; with no injector
// installed the check is one branch. Injected errors are tagged ("injected fault <name>: ...")
// and recorded in the trace (kFaultInjected), so checkers can tell them from the engine's own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/time.h"

namespace faultline::sim {

class TraceRecorder;

// clang-format off
#define FAULTLINE_FAULT_POINTS(X)                                   \
  X(kNetConnect, "net-connect")   /* opening a channel */           \
  X(kNetSend, "net-send")         /* a buffer entering a link */    \
  X(kDiskWrite, "disk-write")     /* create, append, write */       \
  X(kDiskSync, "disk-sync")                                         \
  X(kDiskRead, "disk-read")                                         \
  X(kDiskMetadata, "disk-metadata") /* rename, delete, list */      \
  X(kBlobPut, "blob-put")                                           \
  X(kBlobGet, "blob-get")                                           \
  X(kBlobDelete, "blob-delete")                                     \
  X(kBlobList, "blob-list")                                         \
  X(kHaRead, "ha-read")                                             \
  X(kHaWrite, "ha-write")                                           \
  X(kLogRead, "log-read")                                           \
  X(kOutputWrite, "output-write")                                   \
  X(kOutputRead, "output-read")
// clang-format on

enum class FaultPoint : uint8_t {
#define FAULTLINE_FAULT_ENUM(e, name) e,
  FAULTLINE_FAULT_POINTS(FAULTLINE_FAULT_ENUM)
#undef FAULTLINE_FAULT_ENUM
};

std::string_view FaultPointName(FaultPoint point);

// Where a fault point was reached.
struct FaultSite {
  FaultPoint point;
  Time now;
  uint32_t node = 0xffffffffu;  // the acting node (kWorldOwner for the world)
  uint32_t peer = 0xffffffffu;  // the other end, for network points
  std::string_view target;      // path, blob name or key
  uint64_t bytes = 0;
  std::string_view op;  // the service operation ("put", "commit", ...), for service points
};

// What an injector decided. Effects combine: an error wins over a corruption or a loss.
struct FaultEffect {
  Status error;          // the operation fails with this status
  Duration extra_delay;  // the operation takes this much longer
  bool corrupt = false;  // stored or returned bytes are silently corrupted
  // Where the corruption lands, counted back from the end of the object (0: its last byte);
  // unset: a position drawn at random.
  std::optional<uint64_t> corrupt_from_end;
  bool lose = false;  // a write reports success but is never visible
  bool torn = false;  // a write stores only a prefix of its bytes (blob puts)
  // A listing answers as of this long ago: objects put more recently are missing (blob lists).
  std::optional<Duration> stale_by;
  std::string fault_name;  // for the trace and the tagged message

  bool any() const {
    return !error.ok() || extra_delay > Duration::Zero() || corrupt || lose || torn ||
           stale_by.has_value();
  }
};

// Implemented by the fault library (faults/): plan-driven, rate-driven or scripted injectors.
class FaultInjector {
 public:
  virtual ~FaultInjector() = default;
  virtual FaultEffect Decide(const FaultSite& site) = 0;
};

// The effect encoded in a kFaultInjected record's "effect" argument (a bit set).
inline constexpr int64_t kEffectError = 1;
inline constexpr int64_t kEffectDelay = 2;
inline constexpr int64_t kEffectCorrupt = 4;
inline constexpr int64_t kEffectLose = 8;
inline constexpr int64_t kEffectTorn = 16;
inline constexpr int64_t kEffectStale = 32;

class FaultHooks {
 public:
  explicit FaultHooks(TraceRecorder* trace) : trace_(trace) {}

  void Install(FaultInjector* injector) { injectors_.push_back(injector); }
  void Uninstall(FaultInjector* injector);
  bool empty() const { return injectors_.empty(); }

  // Asks every injector; records and returns the combined effect. The error's message is
  // tagged "injected fault <name>: <message>".
  FaultEffect Check(const FaultSite& site, uint32_t incarnation = 0);

  uint64_t injected() const { return injected_; }

 private:
  TraceRecorder* trace_;
  std::vector<FaultInjector*> injectors_;
  uint64_t injected_ = 0;
};

}  // namespace faultline::sim
