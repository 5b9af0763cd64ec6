// External system faults: the source log and the output store answer slowly or not at all.
#include <array>

#include "faults/fault_descriptors.h"

namespace faultline::faults {
namespace {

using sim::FaultPoint;

constexpr FaultField kDuration{.name = "duration",
                               .type = FieldType::kDuration,
                               .required = true,
                               .duration = &FaultSpec::duration};
constexpr std::array kSlowFields = {
    FaultField{.name = "extra_latency",
               .type = FieldType::kDuration,
               .required = true,
               .duration = &FaultSpec::extra_latency},
    kDuration,
};
constexpr std::array kOutageFields = {kDuration};

void DrawSlow(DrawContext& ctx, FaultSpec& s) {
  Rng& rng = ctx.rng;
  s.extra_latency = rng.UniformDuration(Duration::Millis(1), Duration::Millis(100));
  s.duration = ctx.Dur(Duration::Millis(100), Duration::Seconds(2));
}

void DrawOutage(DrawContext& ctx, FaultSpec& s) {
  s.duration = ctx.Dur(Duration::Millis(100), Duration::Seconds(2));
}

OperationRule Window(const FaultSpec& s, uint32_t points) {
  OperationRule r;
  r.window = s.duration.value_or(Duration::Seconds(1));
  r.points = points;
  return r;
}

OperationRule SourceSlow(const FaultSpec& s) {
  OperationRule r = Window(s, Bit(FaultPoint::kLogRead));
  r.extra_delay = s.extra_latency.value_or(Duration::Millis(100));
  return r;
}

OperationRule SourceUnavailable(const FaultSpec& s) {
  OperationRule r = Window(s, Bit(FaultPoint::kLogRead));
  r.error = UnavailableError("the source log is unavailable");
  return r;
}

OperationRule OutputSlow(const FaultSpec& s) {
  OperationRule r = Window(s, kOutputAll);
  r.extra_delay = s.extra_latency.value_or(Duration::Millis(100));
  return r;
}

OperationRule OutputUnavailable(const FaultSpec& s) {
  OperationRule r = Window(s, kOutputAll);
  r.error = UnavailableError("the output store is unavailable");
  return r;
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
