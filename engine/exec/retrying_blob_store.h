// The engine's client of the shared blob store: puts and gets the store throttles
// (RESOURCE_EXHAUSTED, S3's "SlowDown: please reduce your request rate") are retried with
// exponential backoff, as the S3 SDKs and Flink's S3 file systems do, up to a bound; every other
// error passes through at once (an outage or a failed write fails the checkpoint, as before), and
// deletes and listings are not retried.
//
// Owned by a process (JobManager, TaskManager) in place of its context's blob store; `store` and
// `scheduler` belong to the runtime and outlive it. Retries scheduled before the owner is
// destroyed are dropped, with their callbacks, as the owner's own timers are.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/time.h"
#include "engine/runtime/scheduler.h"
#include "engine/runtime/storage.h"

namespace faultline::engine {

class RetryingBlobStore final : public runtime::BlobStore {
 public:
  struct Options {
    Duration first_backoff = Duration::Millis(50);
    Duration max_backoff = Duration::Seconds(1);
    uint32_t attempts_max = 8;  // tries in all, the first included
  };
  RetryingBlobStore(runtime::BlobStore* store, runtime::Scheduler* scheduler)
      : RetryingBlobStore(store, scheduler, Options{}) {}
  RetryingBlobStore(runtime::BlobStore* store, runtime::Scheduler* scheduler, Options options);
  ~RetryingBlobStore() override;
  RetryingBlobStore(const RetryingBlobStore&) = delete;
  RetryingBlobStore& operator=(const RetryingBlobStore&) = delete;

  void Put(std::string name, runtime::Bytes data, runtime::Callback<Status> done) override;
  void Get(std::string name, runtime::Callback<Result<runtime::Bytes>> done) override;
  void Delete(std::string name, runtime::Callback<Status> done) override;
  void List(std::string prefix, runtime::Callback<Result<std::vector<std::string>>> done) override;

  // Throttled: worth retrying after a pause.
  static bool IsThrottled(const Status& status) {
    return status.code() == StatusCode::kResourceExhausted;
  }

 private:
  struct PutCall;
  struct GetCall;
  void TryPut(std::shared_ptr<PutCall> call);
  void TryGet(std::shared_ptr<GetCall> call);
  // The pause before try `attempt` (2, 3, ...): first_backoff doubling, at most max_backoff.
  Duration BackoffBefore(uint32_t attempt) const;

  runtime::BlobStore* store_;
  runtime::Scheduler* scheduler_;
  Options options_;
  std::shared_ptr<bool> alive_;
};

}  // namespace faultline::engine
