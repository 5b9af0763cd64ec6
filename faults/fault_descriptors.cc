#include "faults/fault_descriptors.h"

#include <algorithm>
#include <array>

namespace faultline::faults {
namespace {

constexpr std::array<const FaultKindDescriptor*, kFaultKindCount> kDescriptors = {
#define FAULTLINE_FAULT_DESCRIPTOR_ADDRESS(e, name, category, description) &e##Descriptor,
    FAULTLINE_FAULT_KINDS(FAULTLINE_FAULT_DESCRIPTOR_ADDRESS)
#undef FAULTLINE_FAULT_DESCRIPTOR_ADDRESS
};

}  // namespace

const FaultKindDescriptor& DescriptorOf(FaultKind kind) {
  return *kDescriptors[static_cast<size_t>(kind)];
}

uint32_t NodeOf(const FaultSpec& s, const FaultTargets& targets) {
  if (DescriptorOf(s.kind).targets_job_manager) return targets.job_manager;
  return s.node.value_or(sim::kNoNode);
}

uint32_t DrawContext::AnyNode() {
  return nodes[rng.UniformU64(nodes.size())];
}

Duration DrawContext::Dur(Duration lo, Duration hi) {
  hi = std::min(hi, left);
  lo = std::min(lo, hi);
  return lo >= hi ? hi : rng.UniformDuration(lo, hi);
}

void DrawContext::MaybeLink(FaultSpec& s) {
  if (nodes.size() < 2 || rng.Bernoulli(0.5)) return;  // every link
  Link link;
  link.a = AnyNode();
  do {
    link.b = AnyNode();
  } while (link.b == link.a);
  s.link = link;
}

void DrawContext::DrawScope(FaultSpec& s) {
  s.scope.count = static_cast<uint32_t>(1 + rng.UniformU64(3));
}

void DrawContext::DrawWindow(FaultSpec& s) {
  s.duration = Dur(Duration::Millis(100), Duration::Seconds(2));
}

OperationRule RuleOn(uint32_t points) {
  OperationRule r;
  r.points = points;
  return r;
}

OperationRule WindowRule(const FaultSpec& s, uint32_t points, Duration fallback) {
  OperationRule r = RuleOn(points);
  r.window = s.duration.value_or(fallback);
  return r;
}

}  // namespace faultline::faults
