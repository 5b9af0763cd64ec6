// Blob store faults: failed, slow, torn, corrupted, lost and stale operations, outages and
// throttling.
#include <array>

#include "faults/fault_descriptors.h"

namespace faultline::faults {
namespace {

using sim::FaultPoint;

constexpr uint32_t kPut = Bit(FaultPoint::kBlobPut);
constexpr uint32_t kGet = Bit(FaultPoint::kBlobGet);

constexpr std::array kScopeFields = {kScopeField};
constexpr std::array kBlobLatencyFields = {
    kScopeField, RequiredDuration("extra_latency", &FaultSpec::extra_latency)};
constexpr std::array kBlobOutageFields = {RequiredDuration("duration", &FaultSpec::duration)};
constexpr std::array kBlobCorruptionFields = {
    kScopeField, FaultField{.name = "bytes_from_end", .type = FieldType::kBytesFromEnd}};
constexpr std::array kBlobStaleListFields = {
    kScopeField,
    FaultField{.name = "lag", .type = FieldType::kDuration, .duration = &FaultSpec::lag}};
constexpr std::array kBlobThrottleFields = {FaultField{.name = "rate", .type = FieldType::kRate},
                                            RequiredDuration("duration", &FaultSpec::duration)};

void DrawScope(DrawContext& ctx, FaultSpec& s) {
  ctx.DrawScope(s);
}

OperationRule WriteError(const FaultSpec&) {
  OperationRule r = RuleOn(kPut);
  r.error = InternalError("blob put failed");
  return r;
}

OperationRule ReadError(const FaultSpec&) {
  OperationRule r = RuleOn(kGet);
  r.error = InternalError("blob get failed");
  return r;
}

void DrawBlobLatency(DrawContext& ctx, FaultSpec& s) {
  Rng& rng = ctx.rng;
  ctx.DrawScope(s);
  s.extra_latency = rng.UniformDuration(Duration::Millis(5), Duration::Millis(200));
}

OperationRule BlobLatency(const FaultSpec& s) {
  OperationRule r = RuleOn(kBlobAll);
  r.extra_delay = s.extra_latency.value_or(Duration::Millis(100));
  return r;
}

void DrawWindow(DrawContext& ctx, FaultSpec& s) {
  ctx.DrawWindow(s);
}

OperationRule BlobOutage(const FaultSpec& s) {
  OperationRule r = WindowRule(s, kBlobAll, Duration::Seconds(1));
  r.error = UnavailableError("the blob store is unavailable");
  return r;
}

OperationRule TornObject(const FaultSpec&) {
  OperationRule r = RuleOn(kPut);
  r.needs_bytes = true;
  r.torn = true;
  return r;
}

OperationRule Corruption(const FaultSpec& s) {
  OperationRule r = RuleOn(kPut);
  r.needs_bytes = true;
  r.corrupt = true;
  r.corrupt_from_end = s.bytes_from_end;
  return r;
}

OperationRule LostWrite(const FaultSpec&) {
  OperationRule r = RuleOn(kPut);
  r.lose = true;
  return r;
}

void DrawStaleList(DrawContext& ctx, FaultSpec& s) {
  Rng& rng = ctx.rng;
  ctx.DrawScope(s);
  s.lag = rng.UniformDuration(Duration::Millis(500), Duration::Seconds(10));
}

OperationRule StaleList(const FaultSpec& s) {
  OperationRule r = RuleOn(Bit(FaultPoint::kBlobList));
  r.stale_by = s.lag.value_or(Duration::Seconds(5));
  return r;
}

void DrawThrottle(DrawContext& ctx, FaultSpec& s) {
  Rng& rng = ctx.rng;
  s.rate = 0.1 + 0.8 * rng.UniformDouble();
  ctx.DrawWindow(s);
}

// S3 answers a client that asks too fast with 503 SlowDown; the engine retries with backoff
// (engine/exec/retrying_blob_store.h).
OperationRule Throttle(const FaultSpec& s) {
  OperationRule r = WindowRule(s, kPut | kGet, Duration::Seconds(1));
  r.rate = s.rate.value_or(1);
  r.error = ResourceExhaustedError("SlowDown: please reduce your request rate");
  return r;
}

}  // namespace

const FaultKindDescriptor kBlobWriteErrorDescriptor = {
    .fields = kScopeFields, .draw = DrawScope, .rule = WriteError};
const FaultKindDescriptor kBlobReadErrorDescriptor = {
    .fields = kScopeFields, .draw = DrawScope, .rule = ReadError};
const FaultKindDescriptor kBlobLatencyDescriptor = {
    .fields = kBlobLatencyFields, .draw = DrawBlobLatency, .rule = BlobLatency};
const FaultKindDescriptor kBlobOutageDescriptor = {
    .fields = kBlobOutageFields, .draw = DrawWindow, .rule = BlobOutage};
const FaultKindDescriptor kBlobTornObjectDescriptor = {
    .fields = kScopeFields, .draw = DrawScope, .rule = TornObject};
const FaultKindDescriptor kBlobCorruptionDescriptor = {
    .fields = kBlobCorruptionFields, .draw = DrawScope, .rule = Corruption};
const FaultKindDescriptor kBlobLostWriteDescriptor = {
    .fields = kScopeFields, .draw = DrawScope, .rule = LostWrite};
const FaultKindDescriptor kBlobStaleListDescriptor = {
    .fields = kBlobStaleListFields, .draw = DrawStaleList, .rule = StaleList};
const FaultKindDescriptor kBlobThrottleDescriptor = {
    .fields = kBlobThrottleFields, .draw = DrawThrottle, .rule = Throttle};

}  // namespace faultline::faults
