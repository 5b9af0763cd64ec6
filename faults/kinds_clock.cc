// Clock faults: a node's clock jumps (skew) or runs at another rate (drift).
#include <array>

#include "base/int128.h"
#include "faults/fault_descriptors.h"

namespace faultline::faults {
namespace {

constexpr int64_t kMaxDriftPpm = 1'000'000;

constexpr std::array kClockSkewFields = {
    kNodeField,
    FaultField{.name = "offset",
               .type = FieldType::kDuration,
               .required = true,
               .rule = DurationRule::kNonZero,
               .duration = &FaultSpec::offset},
};
constexpr std::array kClockDriftFields = {
    kNodeField,
    FaultField{.name = "drift_ppm",
               .type = FieldType::kInt64,
               .int64 = &FaultSpec::drift_ppm,
               .check_int =
                   [](int64_t ppm) {
                     if (ppm != 0 && ppm >= -kMaxDriftPpm && ppm <= kMaxDriftPpm)
                       return std::string();
                     return std::to_string(ppm) + " is zero or outside [-" +
                            std::to_string(kMaxDriftPpm) + ", " + std::to_string(kMaxDriftPpm) +
                            "]";
                   }},
};

void DrawClockSkew(DrawContext& ctx, FaultSpec& s) {
  Rng& rng = ctx.rng;
  s.node = ctx.AnyNode();
  // One draw per statement: the operands of * are evaluated in an order C++ leaves to the
  // compiler (GCC drew this sign first and the drift's magnitude first; clang the other way
  // round). The hash must not depend on the compiler.
  if (const bool positive = rng.Bernoulli(0.5); positive) {
    s.offset = rng.UniformDuration(Duration::Millis(1), Duration::Millis(500));
  } else {
    s.offset = Duration::Zero() - rng.UniformDuration(Duration::Millis(1), Duration::Millis(500));
  }
}

std::string ClockSkew(ActContext& ctx, const FaultSpec& s) {
  ctx.world.SetClock(*s.node, *s.offset, ctx.world.ClockDriftPpm(*s.node));
  ctx.permanent();
  return {};
}

void DrawClockDrift(DrawContext& ctx, FaultSpec& s) {
  Rng& rng = ctx.rng;
  s.node = ctx.AnyNode();
  const int64_t magnitude = rng.UniformInt(1, 1000);
  s.drift_ppm = rng.Bernoulli(0.5) ? magnitude : -magnitude;
}

std::string ClockDrift(ActContext& ctx, const FaultSpec& s) {
  // The clock keeps its reading and changes its rate: the offset absorbs the drift so far.
  sim::World& world = ctx.world;
  const uint32_t node = *s.node;
  const Int128 t = ctx.now.nanos();
  const Int128 before = t * world.ClockDriftPpm(node) / 1'000'000;
  const Int128 after = t * s.drift_ppm / 1'000'000;
  const Duration offset =
      world.ClockOffset(node) + Duration::Nanos(static_cast<int64_t>(before - after));
  world.SetClock(node, offset, s.drift_ppm);
  ctx.permanent();
  return {};
}

}  // namespace

const FaultKindDescriptor kClockSkewDescriptor = {
    .fields = kClockSkewFields, .draw = DrawClockSkew, .act = ClockSkew};
const FaultKindDescriptor kClockDriftDescriptor = {
    .fields = kClockDriftFields, .draw = DrawClockDrift, .act = ClockDrift};

}  // namespace faultline::faults
