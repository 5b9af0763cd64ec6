// Network faults: latency spikes, slow bandwidth, partitions, clogged links.
#include <array>
#include <memory>
#include <tuple>
#include <utility>

#include "faults/fault_descriptors.h"

namespace faultline::faults {
namespace {

using sim::FaultPoint;

constexpr std::array kLatencySpikeFields = {
    kLinkField,
    RequiredDuration("extra_latency", &FaultSpec::extra_latency),
    RequiredDuration("duration", &FaultSpec::duration),
};
constexpr std::array kSlowBandwidthFields = {
    kLinkField,
    FaultField{.name = "bandwidth_bytes_per_second",
               .type = FieldType::kInt64,
               .int64 = &FaultSpec::bandwidth_bytes_per_second,
               .check_int =
                   [](int64_t v) {
                     return v > 0 ? std::string() : "must be positive, got " + std::to_string(v);
                   }},
    RequiredDuration("duration", &FaultSpec::duration),
};
constexpr std::array kPartitionFields = {
    FaultField{.name = "side_a", .type = FieldType::kSides},
    FaultField{
        .name = "heal_after", .type = FieldType::kDuration, .duration = &FaultSpec::duration},
};
constexpr std::array kClogFields = {
    kLinkField,
    RequiredDuration("duration", &FaultSpec::duration),
};

void DrawLatencySpike(DrawContext& ctx, FaultSpec& s) {
  Rng& rng = ctx.rng;
  ctx.MaybeLink(s);
  s.extra_latency = rng.UniformDuration(Duration::Millis(1), Duration::Millis(50));
  s.duration = ctx.Dur(Duration::Millis(100), Duration::Seconds(2));
}

// Latency spikes and clogs: every message on the link (or every link) for the window.
OperationRule LinkRule(const FaultSpec& s, Duration fallback) {
  OperationRule r = WindowRule(s, kNetAll, fallback);
  r.link = s.link;
  return r;
}

OperationRule LatencySpike(const FaultSpec& s) {
  OperationRule r = LinkRule(s, Duration::Seconds(1));
  r.extra_delay = s.extra_latency.value_or(Duration::Millis(50));
  return r;
}

void DrawSlowBandwidth(DrawContext& ctx, FaultSpec& s) {
  Rng& rng = ctx.rng;
  ctx.MaybeLink(s);
  s.bandwidth_bytes_per_second = rng.UniformInt(100'000, 10'000'000);
  s.duration = ctx.Dur(Duration::Millis(100), Duration::Seconds(2));
}

std::string SlowBandwidth(ActContext& ctx, const FaultSpec& s) {
  sim::World& world = ctx.world;
  std::vector<std::pair<uint32_t, uint32_t>> links;
  if (s.link) {
    links.emplace_back(*s.link->a, *s.link->b);
  } else {
    for (uint32_t a = 0; a < world.node_count(); ++a) {
      for (uint32_t b = a + 1; b < world.node_count(); ++b) links.emplace_back(a, b);
    }
  }
  auto saved = std::make_shared<std::vector<std::tuple<uint32_t, uint32_t, sim::LinkOptions>>>();
  for (const auto& [a, b] : links) {
    sim::LinkOptions options = world.network().Link(a, b);
    saved->emplace_back(a, b, options);
    options.bandwidth_bytes_per_second = s.bandwidth_bytes_per_second;
    world.network().SetLink(a, b, options);
  }
  const Time at = ctx.EndOf(s.duration.value_or(Duration::Seconds(1)));
  world.loop().Schedule(at, [&world, saved] {
    for (const auto& [a, b, options] : *saved) world.network().SetLink(a, b, options);
  });
  ctx.touch(at);
  return {};
}

void DrawPartition(DrawContext& ctx, FaultSpec& s) {
  Rng& rng = ctx.rng;
  for (uint32_t n : ctx.nodes) (rng.Bernoulli(0.5) ? s.side_a : s.side_b).push_back(n);
  if (s.side_a.empty()) {
    s.side_a.push_back(s.side_b.back());
    s.side_b.pop_back();
  }
  if (s.side_b.empty()) {
    s.side_b.push_back(s.side_a.back());
    s.side_a.pop_back();
  }
  s.duration = ctx.Dur(Duration::Millis(100), Duration::Seconds(3));
}

std::string Partition(ActContext& ctx, const FaultSpec& s) {
  sim::World& world = ctx.world;
  const uint64_t id = world.network().Partition(s.side_a, s.side_b);
  const Duration heal_after = s.duration.value_or(Duration::Zero());
  if (heal_after > Duration::Zero()) {
    const Time at = ctx.EndOf(heal_after);
    world.loop().Schedule(at, [&world, id] { world.network().Heal(id); });
    ctx.touch(at);
  } else {
    ctx.permanent();
  }
  return {};
}

void DrawClog(DrawContext& ctx, FaultSpec& s) {
  ctx.MaybeLink(s);
  s.duration = ctx.Dur(Duration::Millis(50), Duration::Seconds(1));
}

OperationRule Clog(const FaultSpec& s) {
  OperationRule r = LinkRule(s, Duration::Millis(500));
  r.clog = true;
  return r;
}

}  // namespace

const FaultKindDescriptor kLatencySpikeDescriptor = {
    .fields = kLatencySpikeFields, .draw = DrawLatencySpike, .rule = LatencySpike};
const FaultKindDescriptor kSlowBandwidthDescriptor = {
    .fields = kSlowBandwidthFields, .draw = DrawSlowBandwidth, .act = SlowBandwidth};
const FaultKindDescriptor kPartitionDescriptor = {
    .fields = kPartitionFields, .draw = DrawPartition, .act = Partition};
const FaultKindDescriptor kClogDescriptor = {.fields = kClogFields, .draw = DrawClog, .rule = Clog};

}  // namespace faultline::faults
