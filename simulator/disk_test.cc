#include "simulator/disk.h"

#include <gtest/gtest.h>

#include <string>

#include "simulator/world.h"

namespace faultline::sim {
namespace {

std::vector<uint8_t> B(std::string_view s) {
  return {s.begin(), s.end()};
}
std::string S(const std::vector<uint8_t>& b) {
  return {b.begin(), b.end()};
}

class DiskTest : public ::testing::Test {
 protected:
  DiskTest() : world_(WorldOptions{.seed = 1, .disk_capacity_bytes = 1000}) {
    node_ = world_.AddNode("n", nullptr);
    world_.Start(node_);
  }
  SimDisk& disk() { return world_.disk(node_); }
  std::string ReadAll(std::string_view path) {
    auto r = disk().Read(path, 0, 1 << 20);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? S(*r) : "";
  }
  World world_;
  uint32_t node_;
};

TEST_F(DiskTest, SyncedDataSurvivesACrashUnsyncedDoesNot) {
  ASSERT_TRUE(disk().Create("log").ok());
  ASSERT_TRUE(disk().Append("log", B("durable|")).ok());
  ASSERT_TRUE(disk().Sync("log").ok());
  ASSERT_TRUE(disk().Append("log", B("lost")).ok());
  EXPECT_EQ(ReadAll("log"), "durable|lost");
  EXPECT_EQ(disk().UnsyncedBytes(), 4u);
  world_.Crash(node_, "test");
  EXPECT_EQ(ReadAll("log"), "durable|");
  EXPECT_EQ(disk().stats().bytes_lost_unsynced, 4u);
  EXPECT_EQ(world_.trace().CountOf(TraceKind::kDiskCrashLoss), 1u);
  EXPECT_EQ(disk().UnsyncedBytes(), 0u);
}

TEST_F(DiskTest, OverwritesBeforeTheSyncedEndAreLostToo) {
  ASSERT_TRUE(disk().Create("f").ok());
  ASSERT_TRUE(disk().Append("f", B("aaaaaaaa")).ok());
  ASSERT_TRUE(disk().Sync("f").ok());
  ASSERT_TRUE(disk().Write("f", 2, B("XY")).ok());
  EXPECT_EQ(ReadAll("f"), "aaXYaaaa");
  world_.Crash(node_, "test");
  EXPECT_EQ(ReadAll("f"), "aaaaaaaa");
}

TEST_F(DiskTest, AFileNeverSyncedIsEmptyAfterACrash) {
  ASSERT_TRUE(disk().Create("new").ok());
  ASSERT_TRUE(disk().Append("new", B("x")).ok());
  world_.Crash(node_, "test");
  EXPECT_EQ(ReadAll("new"), "");  // Create is durable, its contents were not
}

TEST_F(DiskTest, MetadataOperations) {
  ASSERT_TRUE(disk().Create("dir/a").ok());
  ASSERT_TRUE(disk().Create("dir/b").ok());
  ASSERT_TRUE(disk().Create("other").ok());
  ASSERT_TRUE(disk().Append("dir/a", B("A")).ok());
  ASSERT_TRUE(disk().Sync("dir/a").ok());
  ASSERT_TRUE(disk().Rename("dir/a", "dir/c").ok());
  auto list = disk().List("dir/");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list, (std::vector<std::string>{"dir/b", "dir/c"}));
  EXPECT_EQ(ReadAll("dir/c"), "A");
  ASSERT_TRUE(disk().Delete("dir/b").ok());
  EXPECT_EQ(disk().Delete("dir/b").code(), StatusCode::kNotFound);
  EXPECT_EQ(disk().Read("dir/a", 0, 1).status().code(), StatusCode::kNotFound);
  world_.Crash(node_, "test");
  EXPECT_EQ(ReadAll("dir/c"), "A");  // the rename was durable
  EXPECT_EQ(*disk().Size("dir/c"), 1u);
}

TEST_F(DiskTest, ReadsAreShortAtEndOfFile) {
  ASSERT_TRUE(disk().Create("f").ok());
  ASSERT_TRUE(disk().Append("f", B("hello")).ok());
  EXPECT_EQ(S(*disk().Read("f", 3, 10)), "lo");
  EXPECT_EQ(S(*disk().Read("f", 9, 10)), "");
  EXPECT_EQ(disk().Write("f", 9, B("x")).code(), StatusCode::kOutOfRange);
}

TEST_F(DiskTest, AFullDiskSaysSo) {
  ASSERT_TRUE(disk().Create("big").ok());
  ASSERT_TRUE(disk().Append("big", std::vector<uint8_t>(900, 1)).ok());
  Status full = disk().Append("big", std::vector<uint8_t>(200, 1));
  EXPECT_EQ(full.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(full.message().find("disk full"), std::string::npos);
  EXPECT_EQ(*disk().Size("big"), 900u);  // nothing partial was written
  ASSERT_TRUE(disk().Delete("big").ok());
  EXPECT_TRUE(disk().Append("other", B("x")).code() == StatusCode::kNotFound);
  ASSERT_TRUE(disk().Create("other").ok());
  EXPECT_TRUE(disk().Append("other", std::vector<uint8_t>(200, 1)).ok());
}

TEST_F(DiskTest, LosingTheMachineLosesEverything) {
  ASSERT_TRUE(disk().Create("f").ok());
  ASSERT_TRUE(disk().Append("f", B("x")).ok());
  ASSERT_TRUE(disk().Sync("f").ok());
  world_.Crash(node_, "machine lost");
  world_.LoseDisk(node_);
  EXPECT_TRUE(disk().List("")->empty());
  EXPECT_EQ(disk().UsedBytes(), 0u);
}

TEST_F(DiskTest, InjectedFaultsAreTaggedAndTraced) {
  struct FailSyncs : FaultInjector {
    FaultEffect Decide(const FaultSite& site) override {
      FaultEffect e;
      if (site.point == FaultPoint::kDiskSync) {
        e.error = UnavailableError("fsync: I/O error");
        e.fault_name = "disk-sync-error";
      }
      return e;
    }
  } injector;
  world_.faults().Install(&injector);
  ASSERT_TRUE(disk().Create("f").ok());
  ASSERT_TRUE(disk().Append("f", B("x")).ok());
  Status s = disk().Sync("f");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "injected fault disk-sync-error: fsync: I/O error");
  EXPECT_EQ(world_.trace().CountOf(TraceKind::kFaultInjected), 1u);
  EXPECT_EQ(world_.trace().CountOf(TraceKind::kDiskError), 1u);
  world_.faults().Uninstall(&injector);
  world_.Crash(node_, "test");
  EXPECT_EQ(ReadAll("f"), "");  // the failed sync made nothing durable
}

}  // namespace
}  // namespace faultline::sim
