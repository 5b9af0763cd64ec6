// One descriptor per fault kind: the fields it reads (how each is validated and written in the
// scenario schema), how a nemesis draws it at random, and how it is applied: a world action
// (crash, pause, partition, ...) or an operation rule (the operations it hits and what it does
// to them). The descriptors live by category in faults/kinds_<category>.cc; fault_kinds.h lists
// the kinds. A new kind is a row there, a descriptor here, and a schema message
// (scenarios/scenario.proto): validation, the nemesis, the runner and the plan <-> textproto
// conversion read the descriptor.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/rng.h"
#include "base/status.h"
#include "base/time.h"
#include "faults/fault_kinds.h"
#include "faults/fault_plan.h"
#include "faults/fault_targets.h"
#include "simulator/fault_points.h"
#include "simulator/world.h"

namespace faultline::faults {

// How a field is written in the schema, and which FaultSpec member holds it.
enum class FieldType : uint8_t {
  kNode,          // `optional uint32`: a node of the world            -> node
  kTaskManager,   // `uint32`: a TaskManager node                        -> node
  kLink,          // `Link` {a, b}, absent: every link                   -> link
  kSides,         // `repeated uint32 side_a, side_b`: disjoint nodes    -> side_a, side_b
  kSubtask,       // `string`: a subtask                                 -> subtask
  kRestart,       // `string restart_after` + `bool never_restart`      -> restart_after, ...
  kDuration,      // `string`                                            -> FaultField::duration
  kFlag,          // `bool`                                              -> FaultField::flag
  kInt64,         // `int64`, checked by FaultField::check_int           -> FaultField::int64
  kBytesFromEnd,  // `optional uint64`                                  -> bytes_from_end
  kRate,          // `double` in (0, 1]                                  -> rate
  kScope,         // `Scope` {target_prefix, count, duration}            -> scope
  kEnum,          // an enum, its number checked by FaultField::check_int -> FaultField::int64
};

enum class DurationRule : uint8_t { kPositive, kNonNegative, kNonZero };

struct FaultField {
  std::string_view name;  // the schema's field name (kSides: "side_a", also reads side_b)
  FieldType type;
  bool required = false;  // kDuration, kRate: absence is an error
  DurationRule rule = DurationRule::kPositive;
  std::optional<Duration> FaultSpec::*duration = nullptr;
  bool FaultSpec::*flag = nullptr;
  int64_t FaultSpec::*int64 = nullptr;
  // kInt64: what is wrong with a value (empty: nothing).
  std::string (*check_int)(int64_t value) = nullptr;
};

// What a nemesis draw may use. Every draw comes from `rng`, in the order the kind's draw makes
// them (the trace hash depends on it).
struct DrawContext {
  Rng& rng;
  const std::vector<uint32_t>& nodes;  // every node of the world
  const FaultTargets& targets;
  Duration left;  // until the end of the fault phase

  uint32_t AnyNode();
  // Uniform in [lo, hi], both cut to `left`.
  Duration Dur(Duration lo, Duration hi);
  // Half the time every link, else a random link.
  void MaybeLink(FaultSpec& s);
  // The first 1..3 matching operations.
  void DrawScope(FaultSpec& s);
  // A window (`duration`) of 100 ms..2 s.
  void DrawWindow(FaultSpec& s);
};

// What a world action may use: the world, its targets, and the runner's bookkeeping.
struct ActContext {
  sim::World& world;
  const FaultTargets& targets;
  Time now;
  Time not_after;   // the nemesis's effects end by the end of its fault phase
  std::string tag;  // "injected fault <name>": the reason given for a crash or a failure
  std::function<void(Time)> touch;  // something fault-related happens (or ends) at that time
  std::function<void()> permanent;  // the fault never ends (ignored for the nemesis)

  Time EndOf(Duration d) const { return std::min(now + d, not_after); }
  std::string Down(uint32_t node) const { return "node " + std::to_string(node) + " was down"; }
};

// An operation fault: which operations it hits and what it does to them.
struct OperationRule {
  uint32_t points = 0;           // a bit per sim::FaultPoint
  uint32_t node = sim::kNoNode;  // kNoNode: any
  std::optional<Link> link;      // absent: any link
  bool needs_bytes = false;      // only operations that write bytes
  // Hits every matching operation for this long; nullopt: the spec's scope decides.
  std::optional<Duration> window;
  double rate = 1;  // the fraction of matching operations hit (below 1: drawn per operation)
  Status error;
  Duration extra_delay;
  bool clog = false;
  bool corrupt = false;
  std::optional<uint64_t> corrupt_from_end;
  bool lose = false;
  bool torn = false;
  std::optional<Duration> stale_by;
};

struct FaultKindDescriptor {
  std::span<const FaultField> fields;  // in the order they are validated and written
  void (*draw)(DrawContext& ctx, FaultSpec& s) = nullptr;
  // Exactly one of: a world action (returns why it had no effect, empty when it had one) ...
  std::string (*act)(ActContext& ctx, const FaultSpec& s) = nullptr;
  // ... or an operation rule, armed in the runner's sim::FaultInjector.
  OperationRule (*rule)(const FaultSpec& s) = nullptr;
  bool targets_job_manager = false;  // its node is the JobManager (not a field)
};

// Fields many kinds share.
inline constexpr FaultField kNodeField{.name = "node", .type = FieldType::kNode};
inline constexpr FaultField kLinkField{.name = "link", .type = FieldType::kLink};
inline constexpr FaultField kScopeField{.name = "scope", .type = FieldType::kScope};
inline constexpr FaultField kRestartField{.name = "restart_after", .type = FieldType::kRestart};
constexpr FaultField RequiredDuration(std::string_view name,
                                      std::optional<Duration> FaultSpec::*member) {
  return {.name = name, .type = FieldType::kDuration, .required = true, .duration = member};
}

#define FAULTLINE_DECLARE_FAULT_DESCRIPTOR(e, name, category, description) \
  extern const FaultKindDescriptor e##Descriptor;
FAULTLINE_FAULT_KINDS(FAULTLINE_DECLARE_FAULT_DESCRIPTOR)
#undef FAULTLINE_DECLARE_FAULT_DESCRIPTOR

const FaultKindDescriptor& DescriptorOf(FaultKind kind);
inline bool IsOperationKind(FaultKind kind) {
  return DescriptorOf(kind).rule != nullptr;
}
// The node a fault acts on, sim::kNoNode when none.
uint32_t NodeOf(const FaultSpec& s, const FaultTargets& targets);

constexpr uint32_t Bit(sim::FaultPoint p) {
  return uint32_t{1} << static_cast<unsigned>(p);
}
constexpr uint32_t kBlobAll = Bit(sim::FaultPoint::kBlobPut) | Bit(sim::FaultPoint::kBlobGet) |
                              Bit(sim::FaultPoint::kBlobDelete) | Bit(sim::FaultPoint::kBlobList);
constexpr uint32_t kNetAll = Bit(sim::FaultPoint::kNetSend) | Bit(sim::FaultPoint::kNetConnect);
constexpr uint32_t kOutputAll =
    Bit(sim::FaultPoint::kOutputWrite) | Bit(sim::FaultPoint::kOutputRead);

// A rule on `points`; with a window: every matching operation for the spec's `duration`
// (`fallback` when unset).
OperationRule RuleOn(uint32_t points);
OperationRule WindowRule(const FaultSpec& s, uint32_t points, Duration fallback);

// Shared by the crash kinds: crashes `node` (losing its disk if asked) and restarts it after
// `restart_after` (nullopt: never).
std::string CrashNode(ActContext& ctx, uint32_t node, bool lose_disk,
                      std::optional<Duration> restart_after);
// A crash's restart: nullopt for never_restart (default 500ms).
std::optional<Duration> RestartOf(const FaultSpec& s);

}  // namespace faultline::faults
