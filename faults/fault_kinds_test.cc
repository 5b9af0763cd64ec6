#include "faults/fault_kinds.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "faults/fault_descriptors.h"

namespace faultline::faults {
namespace {

TEST(FaultKindsTest, NamesAreUniqueAndRoundTrip) {
  std::set<std::string_view> names;
  for (const FaultKindInfo& info : kFaultKinds) {
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_EQ(FaultKindFromName(info.name), info.kind);
    EXPECT_EQ(FaultKindName(info.kind), info.name);
    EXPECT_FALSE(info.description.empty());
    EXPECT_NE(FaultCategoryName(info.category), "?");
  }
  EXPECT_EQ(FaultKindFromName("crash"), std::nullopt);
  EXPECT_EQ(InfoOf(FaultKind::kClog).category, FaultCategory::kNetwork);
  EXPECT_EQ(InfoOf(FaultKind::kBlobStaleList).category, FaultCategory::kBlobStore);
}

TEST(FaultKindsTest, EveryKindHasADescriptorThatDrawsAndApplies) {
  for (const FaultKindInfo& info : kFaultKinds) {
    const FaultKindDescriptor& d = DescriptorOf(info.kind);
    EXPECT_NE(d.draw, nullptr) << info.name;
    EXPECT_NE(d.act == nullptr, d.rule == nullptr) << info.name << ": one of act and rule";
    for (const FaultField& field : d.fields) {
      EXPECT_FALSE(field.name.empty()) << info.name;
      if (field.type == FieldType::kDuration) {
        EXPECT_NE(field.duration, nullptr) << field.name;
      }
      if (field.type == FieldType::kFlag) {
        EXPECT_NE(field.flag, nullptr) << field.name;
      }
      if (field.type == FieldType::kInt64 || field.type == FieldType::kEnum) {
        EXPECT_NE(field.int64, nullptr) << field.name;
        EXPECT_NE(field.check_int, nullptr) << field.name;
      }
    }
  }
}

}  // namespace
}  // namespace faultline::faults
