#include "simulator/trace.h"

#include <gtest/gtest.h>

#include <set>

namespace faultline::sim {
namespace {

TraceRecord Sample() {
  return TraceRecord{
      Time::FromNanos(123456789), TraceKind::kDeliver, 2, 3, {7, 1, 512, 9}, "detail"};
}

TEST(TraceHashTest, CoversEveryFieldOfARecord) {
  const TraceRecord base = Sample();
  const uint64_t h = HashTraceRecord(base, 0);
  std::vector<TraceRecord> mutants;
  auto mutate = [&](auto&& change) {
    TraceRecord r = base;
    change(r);
    mutants.push_back(r);
  };
  mutate([](TraceRecord& r) { r.time = r.time + Duration::Nanos(1); });
  mutate([](TraceRecord& r) { r.kind = TraceKind::kSend; });
  mutate([](TraceRecord& r) { r.node = 1; });
  mutate([](TraceRecord& r) { r.incarnation = 4; });
  for (size_t i = 0; i < 4; ++i) {
    mutate([i](TraceRecord& r) { r.args[i] += 1; });
    mutate([i](TraceRecord& r) { r.args[i] = -r.args[i] - 1; });
  }
  mutate([](TraceRecord& r) { r.detail = "detaiL"; });
  mutate([](TraceRecord& r) { r.detail.clear(); });
  mutate([](TraceRecord& r) { r.detail += '\0'; });
  std::set<uint64_t> hashes{h};
  for (const TraceRecord& m : mutants) {
    ASSERT_NE(m, base);
    hashes.insert(HashTraceRecord(m, 0));
  }
  EXPECT_EQ(hashes.size(), mutants.size() + 1) << "some field change left the hash unchanged";
  EXPECT_NE(HashTraceRecord(base, 1), h) << "the previous hash must chain in";
}

TEST(TraceRecorderTest, RollingHashCoversOrderAndEveryRecord) {
  TraceRecorder a;
  TraceRecorder b;
  a.Record(Time::FromNanos(1), TraceKind::kSend, 0, 0, {1, 1, 10, 0});
  a.Record(Time::FromNanos(2), TraceKind::kDeliver, 1, 0, {1, 0, 10, 0});
  b.Record(Time::FromNanos(2), TraceKind::kDeliver, 1, 0, {1, 0, 10, 0});
  b.Record(Time::FromNanos(1), TraceKind::kSend, 0, 0, {1, 1, 10, 0});
  EXPECT_NE(a.hash(), b.hash());
  EXPECT_EQ(a.hash(), TraceRecorder::HashAll(a.records()));
  EXPECT_EQ(a.count(), 2u);
  EXPECT_EQ(a.CountOf(TraceKind::kSend), 1u);
}

TEST(TraceRecorderTest, HashOnlyModeKeepsTheSameHash) {
  TraceRecorder keep;
  TraceRecorder hash_only(TraceRecorder::Options{.keep_records = false});
  for (int i = 0; i < 100; ++i) {
    keep.Record(Time::FromNanos(i), TraceKind::kTimerFired, 0, 0, {i, 0, 0, 0});
    hash_only.Record(Time::FromNanos(i), TraceKind::kTimerFired, 0, 0, {i, 0, 0, 0});
  }
  EXPECT_EQ(keep.hash(), hash_only.hash());
  EXPECT_TRUE(hash_only.records().empty());
  EXPECT_EQ(keep.records().size(), 100u);
}

TEST(TraceRecorderTest, ObserversSeeEveryRecord) {
  struct Counter : TraceObserver {
    int seen = 0;
    void OnRecord(const TraceRecord&) override { ++seen; }
  } counter;
  TraceRecorder trace;
  trace.AddObserver(&counter);
  trace.Record(Time::Zero(), TraceKind::kNote, 0, 0, {}, "x");
  trace.Record(Time::Zero(), TraceKind::kNote, 0, 0, {}, "y");
  trace.RemoveObserver(&counter);
  trace.Record(Time::Zero(), TraceKind::kNote, 0, 0, {}, "z");
  EXPECT_EQ(counter.seen, 2);
}

TEST(TraceFormatTest, NamesArgumentsByKind) {
  EXPECT_EQ(FormatTraceRecord(Sample()),
            "0.123456789s node=2#3 deliver channel=7 from=1 bytes=512 seq=9 detail=\"detail\"");
  TraceRecord req{
      Time::Zero(),
      TraceKind::kServiceRequest,
      0,
      1,
      {static_cast<int64_t>(Service::kBlobStore), static_cast<int64_t>(ServiceOp::kPut), 5, 100},
      "cp-1/meta"};
  EXPECT_EQ(FormatTraceRecord(req),
            "0.000000000s node=0#1 request service=blob op=put request=5 bytes=100 "
            "target=\"cp-1/meta\"");
  TraceRecord world{Time::Zero(), TraceKind::kHeal, 0xffffffffu, 0, {3, 0, 0, 0}, ""};
  EXPECT_EQ(FormatTraceRecord(world), "0.000000000s world heal id=3");
}

TEST(TraceKindsTest, EveryKindHasANameAndNamesAreUnique) {
  std::set<std::string_view> names;
  for (const TraceKindInfo& info : kTraceKindInfo) {
    EXPECT_FALSE(info.name.empty());
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
  }
}

}  // namespace
}  // namespace faultline::sim
