// External system faults: the source log and the output store answer slowly or not at all.
#include <array>

#include "faults/fault_descriptors.h"

namespace faultline::faults {
namespace {

using sim::FaultPoint;

constexpr uint32_t kLogRead = Bit(FaultPoint::kLogRead);

constexpr std::array kSlowFields = {RequiredDuration("extra_latency", &FaultSpec::extra_latency),
                                    RequiredDuration("duration", &FaultSpec::duration)};
constexpr std::array kOutageFields = {RequiredDuration("duration", &FaultSpec::duration)};

void DrawSlow(DrawContext& ctx, FaultSpec& s) {
  Rng& rng = ctx.rng;
  s.extra_latency = rng.UniformDuration(Duration::Millis(1), Duration::Millis(100));
  ctx.DrawWindow(s);
}

void DrawOutage(DrawContext& ctx, FaultSpec& s) {
  ctx.DrawWindow(s);
}

// Every operation on `points` is slowed, or answered UNAVAILABLE by `service`, for the window.
OperationRule Slow(const FaultSpec& s, uint32_t points) {
  OperationRule r = WindowRule(s, points, Duration::Seconds(1));
  r.extra_delay = s.extra_latency.value_or(Duration::Millis(100));
  return r;
}

OperationRule Unavailable(const FaultSpec& s, uint32_t points, std::string_view service) {
  OperationRule r = WindowRule(s, points, Duration::Seconds(1));
  r.error = UnavailableError("the " + std::string(service) + " is unavailable");
  return r;
}

OperationRule SourceSlow(const FaultSpec& s) {
  return Slow(s, kLogRead);
}
OperationRule SourceUnavailable(const FaultSpec& s) {
  return Unavailable(s, kLogRead, "source log");
}
OperationRule OutputSlow(const FaultSpec& s) {
  return Slow(s, kOutputAll);
}
OperationRule OutputUnavailable(const FaultSpec& s) {
  return Unavailable(s, kOutputAll, "output store");
}

}  // namespace

const FaultKindDescriptor kSourceSlowDescriptor = {
    .fields = kSlowFields, .draw = DrawSlow, .rule = SourceSlow};
const FaultKindDescriptor kSourceUnavailableDescriptor = {
    .fields = kOutageFields, .draw = DrawOutage, .rule = SourceUnavailable};
const FaultKindDescriptor kOutputSlowDescriptor = {
    .fields = kSlowFields, .draw = DrawSlow, .rule = OutputSlow};
const FaultKindDescriptor kOutputUnavailableDescriptor = {
    .fields = kOutageFields, .draw = DrawOutage, .rule = OutputUnavailable};

}  // namespace faultline::faults
