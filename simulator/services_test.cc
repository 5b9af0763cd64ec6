#include "simulator/services.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>

#include "simulator/world.h"

namespace faultline::sim {
namespace {

std::vector<uint8_t> B(std::string_view s) {
  return {s.begin(), s.end()};
}

class ServicesTest : public ::testing::Test {
 protected:
  ServicesTest() : world_(WorldOptions{.seed = 5}) {
    node_ = world_.AddNode("client", nullptr);
    world_.Start(node_);
  }
  void Settle() { world_.RunFor(Duration::Seconds(5)); }
  World world_;
  uint32_t node_;
};

// An injector that applies one effect to one fault point.
struct OneShot : FaultInjector {
  FaultPoint point;
  FaultEffect effect;
  int remaining = 1;
  OneShot(FaultPoint p, FaultEffect e) : point(p), effect(std::move(e)) {}
  FaultEffect Decide(const FaultSite& site) override {
    if (site.point != point || remaining == 0) return {};
    --remaining;
    return effect;
  }
};

TEST_F(ServicesTest, TornPutStoresAStrictPrefixAndIsTagged) {
  FaultEffect torn;
  torn.torn = true;
  torn.fault_name = "torn";
  OneShot injector(FaultPoint::kBlobPut, torn);
  world_.faults().Install(&injector);
  std::optional<Status> put;
  world_.blob_store().Put(node_, "cp-1/state", B("0123456789"), [&](Status s) { put = s; });
  Settle();
  ASSERT_TRUE(put.has_value() && put->ok());  // the writer believes it is whole
  const Bytes* stored = world_.blob_store().Peek("cp-1/state");
  ASSERT_NE(stored, nullptr);
  EXPECT_LT(stored->size(), 10u);
  EXPECT_TRUE(std::equal(stored->begin(), stored->end(), B("0123456789").begin()));
  bool tagged = false;
  for (const TraceRecord& r : world_.trace().records()) {
    tagged |= r.kind == TraceKind::kFaultInjected && (r.args[1] & kEffectTorn) != 0;
  }
  EXPECT_TRUE(tagged);
  world_.faults().Uninstall(&injector);
}

TEST_F(ServicesTest, StaleListMissesRecentlyPutObjects) {
  world_.blob_store().Put(node_, "cp/old", B("a"), [](Status) {});
  Settle();  // 5 s
  world_.blob_store().Put(node_, "cp/new", B("b"), [](Status) {});
  world_.RunFor(Duration::Seconds(1));
  FaultEffect stale;
  stale.stale_by = Duration::Seconds(3);
  stale.fault_name = "stale";
  OneShot injector(FaultPoint::kBlobList, stale);
  world_.faults().Install(&injector);
  std::optional<Result<std::vector<std::string>>> first;
  std::optional<Result<std::vector<std::string>>> second;
  world_.blob_store().List(node_, "cp/", [&](auto r) { first = std::move(r); });
  Settle();
  world_.blob_store().List(node_, "cp/", [&](auto r) { second = std::move(r); });
  Settle();
  ASSERT_TRUE(first.has_value() && first->ok());
  EXPECT_EQ(first->value(), std::vector<std::string>{"cp/old"});
  ASSERT_TRUE(second.has_value() && second->ok());
  EXPECT_EQ(second->value(), (std::vector<std::string>{"cp/new", "cp/old"}));
  world_.faults().Uninstall(&injector);
}

TEST_F(ServicesTest, BlobPutAppearsWholeAtCompletionAndNotBefore) {
  std::optional<Status> put;
  world_.blob_store().Put(node_, "cp-1/state", B("0123456789"), [&](Status s) { put = s; });
  // Before completion no reader sees it.
  EXPECT_EQ(world_.blob_store().Peek("cp-1/state"), nullptr);
  std::optional<Result<Bytes>> early;
  world_.blob_store().Get(node_, "cp-1/state", [&](Result<Bytes> r) { early = std::move(r); });
  Settle();
  ASSERT_TRUE(put.has_value() && put->ok());
  const Bytes* stored = world_.blob_store().Peek("cp-1/state");
  ASSERT_NE(stored, nullptr);
  EXPECT_EQ(*stored, B("0123456789"));
  // The early Get was applied either before (NotFound) or after (whole): never partial.
  ASSERT_TRUE(early.has_value());
  if (early->ok()) {
    EXPECT_EQ(early->value(), B("0123456789"));
  } else {
    EXPECT_EQ(early->status().code(), StatusCode::kNotFound);
  }
}

TEST_F(ServicesTest, ListAndDelete) {
  for (auto name : {"cp-2/b", "cp-1/a", "cp-2/a", "other"}) {
    world_.blob_store().Put(node_, name, B("x"), [](Status s) { ASSERT_TRUE(s.ok()); });
  }
  Settle();
  std::vector<std::string> names;
  world_.blob_store().List(node_, "cp-2/", [&](auto r) { names = *r; });
  Settle();
  EXPECT_EQ(names, (std::vector<std::string>{"cp-2/a", "cp-2/b"}));
  world_.blob_store().Delete(node_, "cp-2/a", [](Status s) { EXPECT_TRUE(s.ok()); });
  Settle();
  EXPECT_EQ(world_.blob_store().Peek("cp-2/a"), nullptr);
}

TEST_F(ServicesTest, AReplyToACrashedCallerIsDroppedButThePutStands) {
  bool replied = false;
  world_.blob_store().Put(node_, "blob", B("data"), [&](Status) { replied = true; });
  world_.Crash(node_, "test");
  Settle();
  EXPECT_FALSE(replied);
  ASSERT_NE(world_.blob_store().Peek("blob"), nullptr);
}

TEST_F(ServicesTest, InjectedBlobFaults) {
  OneShot lost(FaultPoint::kBlobPut, FaultEffect{.lose = true, .fault_name = "lost-write"});
  world_.faults().Install(&lost);
  std::optional<Status> put;
  world_.blob_store().Put(node_, "lost", B("data"), [&](Status s) { put = s; });
  Settle();
  ASSERT_TRUE(put.has_value());
  EXPECT_TRUE(put->ok()) << "a lost write is acknowledged";
  EXPECT_EQ(world_.blob_store().Peek("lost"), nullptr);
  world_.faults().Uninstall(&lost);

  OneShot corrupt(FaultPoint::kBlobPut, FaultEffect{.corrupt = true, .fault_name = "bit-rot"});
  world_.faults().Install(&corrupt);
  world_.blob_store().Put(node_, "rotten", B("data"), [](Status s) { EXPECT_TRUE(s.ok()); });
  Settle();
  ASSERT_NE(world_.blob_store().Peek("rotten"), nullptr);
  EXPECT_NE(*world_.blob_store().Peek("rotten"), B("data"));
  EXPECT_EQ(world_.blob_store().Peek("rotten")->size(), 4u);
  world_.faults().Uninstall(&corrupt);

  OneShot fail(FaultPoint::kBlobGet,
               FaultEffect{.error = UnavailableError("503 Slow Down"), .fault_name = "outage"});
  world_.faults().Install(&fail);
  std::optional<Result<Bytes>> got;
  world_.blob_store().Get(node_, "rotten", [&](Result<Bytes> r) { got = std::move(r); });
  Settle();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(got->status().message(), "injected fault outage: 503 Slow Down");
  EXPECT_EQ(world_.trace().CountOf(TraceKind::kFaultInjected), 3u);
}

TEST_F(ServicesTest, HaStoreCompareAndSet) {
  std::vector<Result<uint64_t>> results;
  auto record = [&](Result<uint64_t> r) { results.push_back(std::move(r)); };
  world_.ha_store().CompareAndSet(node_, "latest", 0, B("cp-1"), record);
  Settle();
  world_.ha_store().CompareAndSet(node_, "latest", 0, B("cp-x"), record);  // stale
  Settle();
  world_.ha_store().CompareAndSet(node_, "latest", 1, B("cp-2"), record);
  Settle();
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(*results[0], 1u);
  EXPECT_EQ(results[1].status().code(), StatusCode::kAborted);
  EXPECT_EQ(*results[2], 2u);
  EXPECT_EQ(world_.ha_store().Peek("latest").value, B("cp-2"));
  std::optional<runtime::VersionedValue> read;
  world_.ha_store().Read(node_, "latest", [&](auto r) { read = *r; });
  world_.ha_store().Read(node_, "absent", [&](auto r) { EXPECT_EQ(r->version, 0u); });
  Settle();
  EXPECT_EQ(read->version, 2u);
}

TEST_F(ServicesTest, SourceLogReadsByOffset) {
  world_.source_log().AddPartitions(2);
  for (int i = 0; i < 10; ++i) world_.source_log().AppendRecord(1, B("r" + std::to_string(i)));
  runtime::LogBatch got;
  world_.source_log().Read(node_, 1, 4, 3, [&](auto r) { got = *r; });
  uint64_t end = 0;
  world_.source_log().EndOffset(node_, 1, [&](auto r) { end = *r; });
  Status past;
  world_.source_log().Read(node_, 1, 11, 3, [&](auto r) { past = r.status(); });
  Settle();
  ASSERT_EQ(got.records.size(), 3u);
  EXPECT_EQ(got.first_offset, 4u);
  EXPECT_EQ(Bytes(got.records[0].begin(), got.records[0].end()), B("r4"));
  EXPECT_EQ(Bytes(got.records[2].begin(), got.records[2].end()), B("r6"));
  EXPECT_EQ(end, 10u);
  EXPECT_EQ(past.code(), StatusCode::kOutOfRange);
}

TEST_F(ServicesTest, OutputStoreTransactions) {
  OutputStoreSim& out = world_.output_store();
  const runtime::WriterEpoch w1{"sink-0", 1};
  std::vector<Status> st;
  auto keep = [&](Status s) { st.push_back(s); };
  // Requests are independent (each has its own latency): a caller that needs order waits.
  out.Write(node_, w1, "t1", {B("a")}, keep);
  Settle();
  out.Write(node_, w1, "t1", {B("b")}, keep);
  Settle();
  EXPECT_TRUE(out.visible().empty()) << "uncommitted writes are invisible";
  out.PreCommit(node_, w1, "t1", keep);
  Settle();
  out.Write(node_, w1, "t1", {B("c")}, keep);  // closed for writes
  Settle();
  EXPECT_EQ(st.back().code(), StatusCode::kFailedPrecondition);
  std::vector<Result<runtime::TxnStatus>> looked;
  auto look = [&](Result<runtime::TxnStatus> r) { looked.push_back(std::move(r)); };
  out.Lookup(node_, w1, "t1", look);
  out.Lookup(node_, w1, "never", look);
  Settle();
  ASSERT_EQ(looked.size(), 2u);
  EXPECT_EQ(looked[0].value(), runtime::TxnStatus::kPreCommitted);
  EXPECT_EQ(looked[1].value(), runtime::TxnStatus::kUnknown);
  out.Commit(node_, w1, "t1", keep);
  Settle();
  ASSERT_EQ(out.visible().size(), 2u);
  EXPECT_EQ(Bytes(out.visible()[0].payload.begin(), out.visible()[0].payload.end()), B("a"));
  EXPECT_EQ(out.visible()[0].txn, "t1");
  EXPECT_EQ(out.visible()[1].writer, "sink-0");
  out.Lookup(node_, w1, "t1", look);
  Settle();
  EXPECT_EQ(looked.back().value(), runtime::TxnStatus::kCommitted);
  out.Commit(node_, w1, "t1", keep);  // not deduplicated: published again
  Settle();
  EXPECT_TRUE(st.back().ok());
  EXPECT_EQ(out.visible().size(), 4u);
  EXPECT_EQ(out.commits_repeated(), 1u);
  EXPECT_EQ(out.StateOf("t1"), TxnState::kCommitted);

  out.Abort(node_, w1, "t1", keep);
  Settle();
  EXPECT_EQ(st.back().code(), StatusCode::kFailedPrecondition);

  // Fencing aborts the writer's transactions still open from earlier epochs, not pre-committed
  // ones.
  const runtime::WriterEpoch w9{"sink-9", 1};
  out.Write(node_, w9, "open-1", {B("o")}, keep);
  out.Write(node_, w9, "pre-1", {B("p")}, keep);
  out.PreCommit(node_, w9, "pre-1", keep);
  Settle();
  out.Fence(node_, {"sink-9", 2}, keep);
  Settle();
  EXPECT_EQ(out.StateOf("open-1"), TxnState::kAborted);
  EXPECT_EQ(out.StateOf("pre-1"), TxnState::kPreCommitted);

  // Fencing: after the fence at epoch 2, the epoch-1 writer can do nothing.
  out.Write(node_, w1, "t2", {B("z")}, keep);
  Settle();
  out.Fence(node_, {"sink-0", 2}, keep);
  Settle();
  out.Commit(node_, w1, "t2", keep);
  Settle();
  EXPECT_EQ(st.back().code(), StatusCode::kAborted);
  out.Abort(node_, {"sink-0", 2}, "t2", keep);
  Settle();
  EXPECT_TRUE(st.back().ok());
  EXPECT_EQ(out.StateOf("t2"), TxnState::kAborted);
  out.Commit(node_, {"sink-0", 2}, "t2", keep);
  Settle();
  EXPECT_EQ(st.back().code(), StatusCode::kNotFound);
  EXPECT_EQ(out.visible().size(), 4u);

  out.Upsert(node_, {"sink-1", 0}, {{"k", B("v1")}}, keep);
  Settle();
  out.Upsert(node_, {"sink-1", 0}, {{"j", B("w")}, {"k", B("v2")}}, keep);
  out.Append(node_, {"sink-2", 0}, {B("x")}, keep);
  Settle();
  EXPECT_EQ(out.table().at("k"), B("v2"));
  EXPECT_EQ(out.table().at("j"), B("w"));
  EXPECT_EQ(out.visible().size(), 8u);
}

// Kafka's transaction.timeout.ms: a transaction open or pre-committed longer than the timeout
// is aborted by the store; its records never become visible, a later commit fails with a clear
// status and Lookup says it expired. One committed in time is published whole.
TEST(OutputStoreTimeoutTest, ATransactionPastTheTimeoutIsAbortedAndItsCommitFails) {
  World world(WorldOptions{.seed = 5, .output_transaction_timeout = Duration::Seconds(2)});
  const uint32_t node = world.AddNode("client", nullptr);
  world.Start(node);
  OutputStoreSim& out = world.output_store();
  const runtime::WriterEpoch w{"sink-0", 1};
  std::vector<Status> st;
  auto keep = [&](Status s) { st.push_back(s); };
  std::vector<Result<runtime::TxnStatus>> looked;
  auto look = [&](Result<runtime::TxnStatus> r) { looked.push_back(std::move(r)); };
  auto settle = [&](Duration d) { world.RunFor(d); };

  out.Write(node, w, "late", {B("l")}, keep);
  out.Write(node, w, "quick", {B("q")}, keep);
  settle(Duration::Millis(100));
  out.PreCommit(node, w, "late", keep);
  out.PreCommit(node, w, "quick", keep);
  settle(Duration::Millis(100));
  out.Commit(node, w, "quick", keep);  // within the timeout
  settle(Duration::Millis(100));
  ASSERT_EQ(st.size(), 5u);
  for (const Status& s : st) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(out.StateOf("late"), TxnState::kPreCommitted);
  EXPECT_FALSE(out.Expired("late"));

  settle(Duration::Seconds(2));  // "late" is now older than the timeout
  EXPECT_EQ(out.StateOf("late"), TxnState::kAborted) << "aborted as of now, before any call";
  EXPECT_TRUE(out.Expired("late"));
  out.Lookup(node, w, "late", look);
  settle(Duration::Millis(100));
  ASSERT_EQ(looked.size(), 1u);
  EXPECT_EQ(looked[0].value(), runtime::TxnStatus::kExpired);
  out.Commit(node, w, "late", keep);
  settle(Duration::Millis(100));
  EXPECT_EQ(st.back().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(st.back().message().find("outlived the output store's transaction timeout 2s"),
            std::string_view::npos)
      << st.back().ToString();
  out.Write(node, w, "late", {B("x")}, keep);
  settle(Duration::Millis(100));
  EXPECT_EQ(st.back().code(), StatusCode::kDeadlineExceeded);
  // Only the transaction committed in time is visible; a committed one never expires.
  ASSERT_EQ(out.visible().size(), 1u);
  EXPECT_EQ(out.visible()[0].txn, "quick");
  EXPECT_EQ(out.StateOf("quick"), TxnState::kCommitted);
  EXPECT_FALSE(out.Expired("quick"));
  out.Abort(node, w, "late", keep);  // aborting an expired transaction is no error
  settle(Duration::Millis(100));
  EXPECT_TRUE(st.back().ok()) << st.back().ToString();
}

// Without a timeout (the default) a transaction may stay pre-committed for ever.
TEST(OutputStoreTimeoutTest, WithoutATimeoutNothingExpires) {
  World world(WorldOptions{.seed = 5});
  const uint32_t node = world.AddNode("client", nullptr);
  world.Start(node);
  OutputStoreSim& out = world.output_store();
  const runtime::WriterEpoch w{"sink-0", 1};
  std::vector<Status> st;
  auto keep = [&](Status s) { st.push_back(s); };
  out.Write(node, w, "t", {B("a")}, keep);
  world.RunFor(Duration::Millis(100));
  out.PreCommit(node, w, "t", keep);
  world.RunFor(Duration::Seconds(3600));
  EXPECT_EQ(out.StateOf("t"), TxnState::kPreCommitted);
  out.Commit(node, w, "t", keep);
  world.RunFor(Duration::Millis(100));
  ASSERT_EQ(st.size(), 3u);
  EXPECT_TRUE(st.back().ok());
  EXPECT_EQ(out.visible().size(), 1u);
}

}  // namespace
}  // namespace faultline::sim
