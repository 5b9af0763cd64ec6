// Local disk faults: failed writes and syncs, a full disk, lost unsynced bytes, corruption.
#include <array>

#include "faults/fault_descriptors.h"

namespace faultline::faults {
namespace {

using sim::FaultPoint;

constexpr std::array kDiskFaultFields = {kNodeField, kScopeField};
constexpr std::array kDiskFullFields = {kNodeField,
                                        RequiredDuration("duration", &FaultSpec::duration)};
constexpr std::array kDiskUnsyncedLossFields = {kNodeField, kRestartField};

void DrawDiskFault(DrawContext& ctx, FaultSpec& s) {
  s.node = ctx.AnyNode();
  ctx.DrawScope(s);
}

OperationRule OnDisk(const FaultSpec& s, FaultPoint point) {
  OperationRule r = RuleOn(Bit(point));
  r.node = *s.node;
  return r;
}

OperationRule WriteError(const FaultSpec& s) {
  OperationRule r = OnDisk(s, FaultPoint::kDiskWrite);
  r.error = InternalError("input/output error writing the local disk");
  return r;
}

OperationRule SyncError(const FaultSpec& s) {
  OperationRule r = OnDisk(s, FaultPoint::kDiskSync);
  r.error = InternalError("input/output error syncing the local disk");
  return r;
}

OperationRule Corruption(const FaultSpec& s) {
  OperationRule r = OnDisk(s, FaultPoint::kDiskWrite);
  r.needs_bytes = true;
  r.corrupt = true;
  return r;
}

void DrawDiskFull(DrawContext& ctx, FaultSpec& s) {
  s.node = ctx.AnyNode();
  ctx.DrawWindow(s);
}

OperationRule DiskFull(const FaultSpec& s) {
  OperationRule r = WindowRule(s, Bit(FaultPoint::kDiskWrite), Duration::Seconds(1));
  r.node = *s.node;
  r.needs_bytes = true;
  r.error = ResourceExhaustedError("no space left on the local disk");
  return r;
}

void DrawUnsyncedLoss(DrawContext& ctx, FaultSpec& s) {
  s.node = ctx.AnyNode();
  s.restart_after = ctx.Dur(Duration::Millis(100), Duration::Seconds(2));
}

std::string UnsyncedLoss(ActContext& ctx, const FaultSpec& s) {
  return CrashNode(ctx, *s.node, /*lose_disk=*/false, RestartOf(s));
}

}  // namespace

const FaultKindDescriptor kDiskWriteErrorDescriptor = {
    .fields = kDiskFaultFields, .draw = DrawDiskFault, .rule = WriteError};
const FaultKindDescriptor kDiskSyncErrorDescriptor = {
    .fields = kDiskFaultFields, .draw = DrawDiskFault, .rule = SyncError};
const FaultKindDescriptor kDiskFullDescriptor = {
    .fields = kDiskFullFields, .draw = DrawDiskFull, .rule = DiskFull};
const FaultKindDescriptor kDiskUnsyncedLossDescriptor = {
    .fields = kDiskUnsyncedLossFields, .draw = DrawUnsyncedLoss, .act = UnsyncedLoss};
const FaultKindDescriptor kDiskCorruptionDescriptor = {
    .fields = kDiskFaultFields, .draw = DrawDiskFault, .rule = Corruption};

}  // namespace faultline::faults
