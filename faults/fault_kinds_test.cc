#include "faults/fault_kinds.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "scenarios/scenario.pb.h"

namespace faultline::faults {
namespace {

TEST(FaultKindsTest, TheTableIsTheSchemasFaultKindOneofInOrder) {
  const auto* oneof = scenario::Fault::descriptor()->FindOneofByName("kind");
  ASSERT_NE(oneof, nullptr);
  ASSERT_EQ(static_cast<size_t>(oneof->field_count()), kFaultKindCount);
  for (int i = 0; i < oneof->field_count(); ++i) {
    EXPECT_EQ(std::string(kFaultKinds[static_cast<size_t>(i)].name), oneof->field(i)->name());
  }
}

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

}  // namespace
}  // namespace faultline::faults
