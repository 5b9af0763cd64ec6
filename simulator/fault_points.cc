#include "simulator/fault_points.h"

#include <algorithm>

#include "simulator/trace.h"

namespace faultline::sim {

std::string_view FaultPointName(FaultPoint point) {
  switch (point) {
#define FAULTLINE_FAULT_NAME(e, name) \
  case FaultPoint::e:                 \
    return name;
    FAULTLINE_FAULT_POINTS(FAULTLINE_FAULT_NAME)
#undef FAULTLINE_FAULT_NAME
  }
  return "?";
}

void FaultHooks::Uninstall(FaultInjector* injector) {
  injectors_.erase(std::remove(injectors_.begin(), injectors_.end(), injector), injectors_.end());
}

FaultEffect FaultHooks::Check(const FaultSite& site, uint32_t incarnation) {
  FaultEffect combined;
  if (injectors_.empty()) return combined;
  for (FaultInjector* injector : injectors_) {
    FaultEffect effect = injector->Decide(site);
    if (!effect.any()) continue;
    if (combined.fault_name.empty()) combined.fault_name = effect.fault_name;
    if (combined.error.ok() && !effect.error.ok()) combined.error = effect.error;
    combined.extra_delay += effect.extra_delay;
    combined.corrupt = combined.corrupt || effect.corrupt;
    if (effect.corrupt_from_end) combined.corrupt_from_end = effect.corrupt_from_end;
    combined.lose = combined.lose || effect.lose;
    combined.torn = combined.torn || effect.torn;
    if (effect.stale_by) combined.stale_by = effect.stale_by;
  }
  if (!combined.any()) return combined;
  if (!combined.error.ok()) {
    combined.corrupt = false;
    combined.lose = false;
    combined.torn = false;
    combined.stale_by.reset();
    combined.error = Status(combined.error.code(), "injected fault " + combined.fault_name + ": " +
                                                       std::string(combined.error.message()));
  }
  const int64_t bits = (combined.error.ok() ? 0 : kEffectError) |
                       (combined.extra_delay > Duration::Zero() ? kEffectDelay : 0) |
                       (combined.corrupt ? kEffectCorrupt : 0) | (combined.lose ? kEffectLose : 0) |
                       (combined.torn ? kEffectTorn : 0) | (combined.stale_by ? kEffectStale : 0);
  std::string detail = combined.fault_name;
  if (!site.target.empty()) {
    detail += " @ ";
    detail += site.target;
  }
  trace_->Record(
      site.now, TraceKind::kFaultInjected, site.node, incarnation,
      {static_cast<int64_t>(site.point), bits,
       site.peer == 0xffffffffu ? int64_t{-1} : int64_t{site.peer}, combined.extra_delay.nanos()},
      detail);
  ++injected_;
  return combined;
}

}  // namespace faultline::sim
