// The two-phase-commit sink's transaction states against the simulated output store: records
// stay invisible until their checkpoint completes; completion of n commits every pending
// transaction up to n; a restored sink commits what its checkpoint pre-committed, once; a newer
// attempt fences the older one; commits do not wait behind later transactions' writes; and the
// at-least-once and upsert kinds.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "engine/exec/chain.h"
#include "simulator/world.h"

namespace faultline {
namespace {

using engine::Record;
using engine::SinkKind;

// Counts the output store calls of one kind (kServiceRequest records).
class CallCounter : public sim::TraceObserver {
 public:
  explicit CallCounter(sim::ServiceOp op) : op_(op) {}
  void OnRecord(const sim::TraceRecord& r) override {
    if (r.kind == sim::TraceKind::kServiceRequest && r.args[1] == static_cast<int64_t>(op_)) {
      ++calls;
    }
  }
  uint64_t calls = 0;

 private:
  sim::ServiceOp op_;
};

class SinkWriterTest : public ::testing::Test {
 protected:
  SinkWriterTest() : SinkWriterTest(sim::WorldOptions{.seed = 4}) {}
  explicit SinkWriterTest(sim::WorldOptions options) : world_(options) {
    node_ = world_.AddNode("tm", [this](const runtime::ProcessContext& c) {
      context_ = c;
      return std::make_unique<sim::Process>();
    });
    world_.Start(node_);
  }

  std::unique_ptr<engine::SinkWriter> Writer(SinkKind kind, uint64_t attempt) {
    op_.name = "out";
    op_.kind = engine::OperatorKind::kSink;
    op_.sink.kind = kind;
    return std::make_unique<engine::SinkWriter>(op_, 0, attempt, context_, switches_,
                                                [this](const Status& s) { errors_.push_back(s); });
  }
  void Settle() { world_.RunFor(Duration::Seconds(1)); }
  size_t Visible() { return world_.output_store().visible().size(); }

  sim::World world_;
  uint32_t node_ = 0;
  runtime::ProcessContext context_;
  engine::OperatorSpec op_;
  engine::TeachingSwitches switches_;
  std::vector<Status> errors_;
};

TEST_F(SinkWriterTest, RecordsBecomeVisibleOnlyWhenTheirCheckpointCompletes) {
  auto sink = Writer(SinkKind::kTwoPhaseCommit, 1);
  sink->Add(Record{"a", 1, {}});
  sink->Add(Record{"b", 2, {}});
  bool pre_committed_1 = false;
  sink->PreCommit(1, [&] { pre_committed_1 = true; });
  sink->Add(Record{"c", 3, {}});
  sink->PreCommit(2, [] {});
  sink->Add(Record{"d", 4, {}});
  sink->Flush();
  Settle();
  EXPECT_TRUE(pre_committed_1);
  EXPECT_EQ(Visible(), 0u) << "pre-committed is not committed";
  EXPECT_EQ(sink->pending().size(), 2u);

  // Completion of 2 commits 1 and 2 (the notification of 1 may never come: subsumed).
  sink->CommitUpTo(2);
  Settle();
  EXPECT_EQ(Visible(), 3u);
  EXPECT_TRUE(sink->pending().empty());
  const std::string txn1(world_.output_store().visible()[0].txn);
  EXPECT_EQ(world_.output_store().StateOf(txn1), sim::TxnState::kCommitted);
  EXPECT_TRUE(errors_.empty());
}

// An output store that moves 20 kB/s: the next transaction's queued batches take about a second
// to send, however they are joined into calls.
class SlowOutputSinkWriterTest : public SinkWriterTest {
 protected:
  SlowOutputSinkWriterTest() : SinkWriterTest(SlowOutput()) {}
  static sim::WorldOptions SlowOutput() {
    sim::WorldOptions options{.seed = 4};
    options.output_store.bandwidth_bytes_per_second = 20'000;
    return options;
  }
};

TEST_F(SlowOutputSinkWriterTest, ACommitIsNotHeldBackByTheWritesOfLaterTransactions) {
  auto sink = Writer(SinkKind::kTwoPhaseCommit, 1);
  sink->Add(Record{"a", 1, {}});
  sink->PreCommit(1, [] {});
  Settle();
  // A thousand batches of the next transaction, about a second of store time, are queued
  // before checkpoint 1's completion arrives: its commit does not wait for them.
  for (int64_t i = 0; i < 1000; ++i) {
    sink->Add(Record{"b", i, {}});
    sink->Flush();
  }
  sink->CommitUpTo(1);
  world_.RunFor(Duration::Millis(50));
  EXPECT_EQ(Visible(), 1u) << "checkpoint 1's commit waited behind later writes";
  EXPECT_TRUE(sink->pending().empty());
  bool all_done = false;
  sink->AfterQueued([&] { all_done = true; });
  world_.RunFor(Duration::Millis(50));
  EXPECT_FALSE(all_done) << "AfterQueued waits for the write lane too";
  world_.RunFor(Duration::Seconds(5));
  EXPECT_TRUE(all_done);
  EXPECT_TRUE(errors_.empty());
}

// As Kafka's producer accumulates records while a request is in flight: batches flushed while
// a write is in flight join the one waiting behind it, so a thousand one-record flushes (a
// thousand small input buffers) cost a few store round trips, not a thousand.
TEST_F(SinkWriterTest, BatchesQueuedBehindACallInFlightAreSentAsOne) {
  CallCounter writes(sim::ServiceOp::kTxnWrite);
  world_.trace().AddObserver(&writes);
  auto sink = Writer(SinkKind::kTwoPhaseCommit, 1);
  for (int64_t i = 0; i < 1000; ++i) {
    sink->Add(Record{"a", i, {}});
    sink->Flush();
  }
  bool pre_committed = false;
  sink->PreCommit(1, [&] { pre_committed = true; });
  // The records after the barrier belong to the next transaction: they never join one before.
  for (int64_t i = 0; i < 10; ++i) {
    sink->Add(Record{"b", i, {}});
    sink->Flush();
  }
  world_.RunFor(Duration::Millis(50));
  EXPECT_TRUE(pre_committed) << "a thousand one-record writes went one call per round trip";
  EXPECT_LE(writes.calls, 4u);
  sink->CommitUpTo(1);
  Settle();
  const std::vector<sim::OutputRecord> visible = world_.output_store().visible();
  ASSERT_EQ(visible.size(), 1000u) << "exactly checkpoint 1's records, not the next ones";
  for (size_t i = 0; i < visible.size(); ++i) {
    EXPECT_EQ(visible[i].txn, visible[0].txn);
    size_t at = 0;
    const Result<Record> record = engine::ReadRecord(visible[i].payload, at);
    ASSERT_TRUE(record.ok());
    EXPECT_EQ(record->value, static_cast<int64_t>(i)) << "in the order added";
  }
  world_.trace().RemoveObserver(&writes);
  EXPECT_TRUE(errors_.empty());
}

TEST_F(SinkWriterTest, JoinedBatchesStayWithinTheRequestSizeAndAppendsJoinToo) {
  CallCounter appends(sim::ServiceOp::kAppend);
  world_.trace().AddObserver(&appends);
  auto sink = Writer(SinkKind::kAtLeastOnce, 1);
  // 40 flushes of about 100 KiB each: a call carries at most 1 MiB, so at least 4 calls.
  const std::string key(100 << 10, 'k');
  for (int64_t i = 0; i < 40; ++i) {
    sink->Add(Record{key, i, {}});
    sink->Flush();
  }
  Settle();
  EXPECT_EQ(Visible(), 40u);
  EXPECT_GE(appends.calls, 4u);
  EXPECT_LE(appends.calls, 8u);
  world_.trace().RemoveObserver(&appends);
  EXPECT_TRUE(errors_.empty());
}

TEST_F(SinkWriterTest, ACommitNeverOvertakesItsOwnTransactionsPreCommit) {
  // commit-on-snapshot queues the commit right behind the pre-commit, before either ran: the
  // commit still runs after every write of its transaction and its pre-commit.
  switches_.commit_on_snapshot = true;
  auto sink = Writer(SinkKind::kTwoPhaseCommit, 1);
  for (int64_t i = 0; i < 50; ++i) {
    sink->Add(Record{"a", i, {}});
    sink->Flush();
  }
  bool pre_committed = false;
  sink->PreCommit(1, [&] { pre_committed = true; });
  Settle();
  EXPECT_TRUE(pre_committed);
  EXPECT_EQ(Visible(), 50u);
  EXPECT_TRUE(sink->pending().empty());
  EXPECT_TRUE(errors_.empty());
}

TEST_F(SinkWriterTest, ARestoredSinkCommitsItsPendingTransactionsExactlyOnce) {
  std::map<uint64_t, std::string> pending;
  {
    auto first = Writer(SinkKind::kTwoPhaseCommit, 1);
    first->Add(Record{"a", 1, {}});
    first->PreCommit(1, [] {});
    first->Add(Record{"b", 2, {}});
    first->PreCommit(2, [] {});
    Settle();
    pending = first->pending();
    // Checkpoint 1's notification arrived and its commit landed; then the process died.
    first->CommitUpTo(1);
    Settle();
  }
  ASSERT_EQ(pending.size(), 2u);
  ASSERT_EQ(Visible(), 1u);
  // Attempt 2 restores checkpoint 2 with both transactions pending: the store says 1 is
  // committed and 2 is not, so only 2 is committed now.
  auto restored = Writer(SinkKind::kTwoPhaseCommit, 2);
  restored->RestorePending(pending);
  restored->RecoverUpTo(2);
  Settle();
  EXPECT_EQ(Visible(), 2u);
  // A second restore of the same checkpoint (attempt 3) commits nothing.
  auto again = Writer(SinkKind::kTwoPhaseCommit, 3);
  again->RestorePending(pending);
  again->RecoverUpTo(2);
  Settle();
  EXPECT_EQ(Visible(), 2u) << "a transaction is never visible twice";
  EXPECT_EQ(world_.output_store().commits_repeated(), 0u);
  EXPECT_TRUE(errors_.empty());
}

TEST_F(SinkWriterTest, RecommitAfterRestorePublishesACommittedTransactionAgain) {
  std::map<uint64_t, std::string> pending;
  {
    auto first = Writer(SinkKind::kTwoPhaseCommit, 1);
    first->Add(Record{"a", 1, {}});
    first->PreCommit(1, [] {});
    Settle();
    pending = first->pending();
    first->CommitUpTo(1);
    Settle();
  }
  switches_.recommit_after_restore = true;
  auto restored = Writer(SinkKind::kTwoPhaseCommit, 2);
  restored->RestorePending(pending);
  restored->RecoverUpTo(1);
  Settle();
  EXPECT_EQ(Visible(), 2u) << "the switch plants exactly this duplicate";
  EXPECT_EQ(world_.output_store().commits_repeated(), 1u);
}

TEST_F(SinkWriterTest, ATransactionOfACompletedCheckpointThatVanishedIsDataLoss) {
  auto restored = Writer(SinkKind::kTwoPhaseCommit, 2);
  restored->RestorePending({{1, "sink#0/attempt-1/txn-0"}});
  restored->RecoverUpTo(1);
  Settle();
  ASSERT_EQ(errors_.size(), 1u);
  EXPECT_EQ(errors_.front().code(), StatusCode::kDataLoss);
}

TEST_F(SinkWriterTest, WithoutFencingAZombieKeepsCommitting) {
  switches_.no_fencing = true;
  auto zombie = Writer(SinkKind::kTwoPhaseCommit, 1);
  Settle();
  auto successor = Writer(SinkKind::kTwoPhaseCommit, 2);  // does not fence attempt 1
  Settle();
  zombie->Add(Record{"late", 1, {}});
  zombie->PreCommit(7, [] {});
  zombie->CommitUpTo(7);
  Settle();
  EXPECT_TRUE(errors_.empty());
  EXPECT_EQ(Visible(), 1u);
}

TEST_F(SinkWriterTest, ANewerAttemptFencesTheOlderOne) {
  auto zombie = Writer(SinkKind::kTwoPhaseCommit, 1);
  Settle();
  auto successor = Writer(SinkKind::kTwoPhaseCommit, 2);  // fences attempt 1
  Settle();
  zombie->Add(Record{"late", 1, {}});
  zombie->PreCommit(7, [] {});
  Settle();
  ASSERT_FALSE(errors_.empty());
  EXPECT_EQ(errors_.front().code(), StatusCode::kAborted);
  EXPECT_NE(errors_.front().message().find("fenced"), std::string::npos);
  EXPECT_EQ(Visible(), 0u);
}

TEST_F(SinkWriterTest, AtLeastOnceAppendsAndUpsertKeepsTheLastValue) {
  auto append = Writer(SinkKind::kAtLeastOnce, 1);
  append->Add(Record{"a", 1, {}});
  append->Add(Record{"a", 2, {}});
  append->Flush();
  Settle();
  EXPECT_EQ(Visible(), 2u);
  auto upsert = Writer(SinkKind::kUpsert, 1);
  upsert->Add(Record{"k", 1, {}});
  upsert->Add(Record{"k", 5, {}});
  Settle();
  EXPECT_EQ(world_.output_store().table().count("k"), 0u) << "upserts wait for the flush";
  upsert->Flush();
  Settle();
  ASSERT_EQ(world_.output_store().table().count("k"), 1u);
  size_t offset = 0;
  Result<Record> last = engine::ReadRecord(world_.output_store().table().at("k"), offset);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->value, 5) << "a batch's upserts are applied in order";
  EXPECT_EQ(Visible(), 4u);
}

}  // namespace
}  // namespace faultline
