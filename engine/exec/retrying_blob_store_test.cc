#include "engine/exec/retrying_blob_store.h"

#include <gtest/gtest.h>

#include <deque>
#include <optional>
#include <utility>
#include <vector>

namespace faultline::engine {
namespace {

// Answers each operation with the next scripted status (OK when the script is empty).
class ScriptedStore final : public runtime::BlobStore {
 public:
  std::deque<Status> script;
  std::vector<std::string> calls;
  std::vector<size_t> put_sizes;

  void Put(std::string name, runtime::Bytes data, runtime::Callback<Status> done) override {
    calls.push_back("put " + name);
    put_sizes.push_back(data.size());
    done(Next());
  }
  void Get(std::string name, runtime::Callback<Result<runtime::Bytes>> done) override {
    calls.push_back("get " + name);
    const Status s = Next();
    if (s.ok()) {
      done(runtime::Bytes{1, 2, 3});
    } else {
      done(s);
    }
  }
  void Delete(std::string name, runtime::Callback<Status> done) override {
    calls.push_back("delete " + name);
    done(Next());
  }
  void List(std::string prefix, runtime::Callback<Result<std::vector<std::string>>> done) override {
    calls.push_back("list " + prefix);
    done(std::vector<std::string>{});
  }

 private:
  Status Next() {
    if (script.empty()) return Status::Ok();
    Status s = script.front();
    script.pop_front();
    return s;
  }
};

// Runs scheduled tasks when asked, and remembers their delays.
class ManualScheduler final : public runtime::Scheduler {
 public:
  std::vector<Duration> delays;
  std::deque<runtime::Task> due;

  runtime::TimerId ScheduleAfter(Duration delay, runtime::Task task) override {
    delays.push_back(delay);
    due.push_back(std::move(task));
    return runtime::TimerId{};
  }
  bool Cancel(runtime::TimerId) override { return false; }
  void RunAll() {
    while (!due.empty()) {
      runtime::Task t = std::move(due.front());
      due.pop_front();
      t();
    }
  }
};

Status SlowDown() {
  return ResourceExhaustedError("SlowDown: please reduce your request rate");
}

TEST(RetryingBlobStoreTest, ThrottledPutsAreRetriedWithGrowingBackoff) {
  ScriptedStore store;
  ManualScheduler scheduler;
  RetryingBlobStore blobs(&store, &scheduler);
  store.script = {SlowDown(), SlowDown(), SlowDown()};
  std::optional<Status> result;
  blobs.Put("chk-1/a", runtime::Bytes(10, 7), [&](Status s) { result = s; });
  scheduler.RunAll();
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->ok());
  EXPECT_EQ(store.put_sizes, (std::vector<size_t>{10, 10, 10, 10}));  // the same bytes each time
  EXPECT_EQ(scheduler.delays, (std::vector<Duration>{Duration::Millis(50), Duration::Millis(100),
                                                     Duration::Millis(200)}));
}

TEST(RetryingBlobStoreTest, ThrottledGetsAreRetried) {
  ScriptedStore store;
  ManualScheduler scheduler;
  RetryingBlobStore blobs(&store, &scheduler);
  store.script = {SlowDown()};
  std::optional<Result<runtime::Bytes>> result;
  blobs.Get("chk-1/a", [&](Result<runtime::Bytes> r) { result = std::move(r); });
  scheduler.RunAll();
  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(result->ok());
  EXPECT_EQ(store.calls, (std::vector<std::string>{"get chk-1/a", "get chk-1/a"}));
}

TEST(RetryingBlobStoreTest, OtherErrorsPassThroughAtOnce) {
  ScriptedStore store;
  ManualScheduler scheduler;
  RetryingBlobStore blobs(&store, &scheduler);
  store.script = {UnavailableError("the blob store is unavailable")};
  std::optional<Status> result;
  blobs.Put("x", {}, [&](Status s) { result = s; });
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->code(), StatusCode::kUnavailable);
  EXPECT_TRUE(scheduler.delays.empty());
}

TEST(RetryingBlobStoreTest, GivesUpAfterTheBoundWithTheLastError) {
  ScriptedStore store;
  ManualScheduler scheduler;
  RetryingBlobStore blobs(&store, &scheduler,
                          {.first_backoff = Duration::Millis(10),
                           .max_backoff = Duration::Millis(25),
                           .attempts_max = 4});
  for (int i = 0; i < 10; ++i) store.script.push_back(SlowDown());
  std::optional<Status> result;
  blobs.Put("x", {}, [&](Status s) { result = s; });
  scheduler.RunAll();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(store.calls.size(), 4u);
  EXPECT_EQ(scheduler.delays, (std::vector<Duration>{Duration::Millis(10), Duration::Millis(20),
                                                     Duration::Millis(25)}));
}

TEST(RetryingBlobStoreTest, RetriesOfADestroyedClientAreDropped) {
  ScriptedStore store;
  ManualScheduler scheduler;
  bool called = false;
  {
    RetryingBlobStore blobs(&store, &scheduler);
    store.script = {SlowDown()};
    blobs.Put("x", {}, [&](Status) { called = true; });
  }
  scheduler.RunAll();
  EXPECT_FALSE(called);
  EXPECT_EQ(store.calls.size(), 1u);
}

}  // namespace
}  // namespace faultline::engine
