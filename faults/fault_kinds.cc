#include "faults/fault_kinds.h"

namespace faultline::faults {

std::string_view FaultCategoryName(FaultCategory category) {
  switch (category) {
#define FAULTLINE_FAULT_CATEGORY_NAME(e, name) \
  case FaultCategory::e:                       \
    return name;
    FAULTLINE_FAULT_CATEGORIES(FAULTLINE_FAULT_CATEGORY_NAME)
#undef FAULTLINE_FAULT_CATEGORY_NAME
  }
  return "?";
}

std::optional<FaultKind> FaultKindFromName(std::string_view name) {
  for (const FaultKindInfo& info : kFaultKinds) {
    if (info.name == name) return info.kind;
  }
  return std::nullopt;
}

}  // namespace faultline::faults
