#include "engine/exec/retrying_blob_store.h"

#include <utility>

#include "base/assert.h"

namespace faultline::engine {

struct RetryingBlobStore::PutCall {
  std::string name;
  runtime::Bytes data;  // kept for another try
  runtime::Callback<Status> done;
  uint32_t attempt = 1;
};

struct RetryingBlobStore::GetCall {
  std::string name;
  runtime::Callback<Result<runtime::Bytes>> done;
  uint32_t attempt = 1;
};

RetryingBlobStore::RetryingBlobStore(runtime::BlobStore* store, runtime::Scheduler* scheduler,
                                     Options options)
    : store_(store),
      scheduler_(scheduler),
      options_(options),
      alive_(std::make_shared<bool>(true)) {
  FL_ASSERT(options_.attempts_max >= 1, "a blob operation is tried at least once");
}

RetryingBlobStore::~RetryingBlobStore() {
  *alive_ = false;
}

Duration RetryingBlobStore::BackoffBefore(uint32_t attempt) const {
  Duration backoff = options_.first_backoff;
  for (uint32_t i = 2; i < attempt && backoff < options_.max_backoff; ++i) backoff = backoff * 2;
  return std::min(backoff, options_.max_backoff);
}

void RetryingBlobStore::Put(std::string name, runtime::Bytes data, runtime::Callback<Status> done) {
  auto call = std::make_shared<PutCall>(PutCall{std::move(name), std::move(data), std::move(done)});
  TryPut(std::move(call));
}

void RetryingBlobStore::TryPut(std::shared_ptr<PutCall> call) {
  runtime::Bytes copy = call->data;
  std::string name = call->name;
  store_->Put(std::move(name), std::move(copy), [this, alive = alive_, call](Status s) {
    if (!*alive) return;
    if (!IsThrottled(s) || call->attempt >= options_.attempts_max) {
      call->done(std::move(s));
      return;
    }
    ++call->attempt;
    scheduler_->ScheduleAfter(BackoffBefore(call->attempt), [this, alive, call] {
      if (*alive) TryPut(call);
    });
  });
}

void RetryingBlobStore::Get(std::string name, runtime::Callback<Result<runtime::Bytes>> done) {
  auto call = std::make_shared<GetCall>(GetCall{std::move(name), std::move(done)});
  TryGet(std::move(call));
}

void RetryingBlobStore::TryGet(std::shared_ptr<GetCall> call) {
  store_->Get(call->name, [this, alive = alive_, call](Result<runtime::Bytes> r) {
    if (!*alive) return;
    if (r.ok() || !IsThrottled(r.status()) || call->attempt >= options_.attempts_max) {
      call->done(std::move(r));
      return;
    }
    ++call->attempt;
    scheduler_->ScheduleAfter(BackoffBefore(call->attempt), [this, alive, call] {
      if (*alive) TryGet(call);
    });
  });
}

void RetryingBlobStore::Delete(std::string name, runtime::Callback<Status> done) {
  store_->Delete(std::move(name), std::move(done));
}

void RetryingBlobStore::List(std::string prefix,
                             runtime::Callback<Result<std::vector<std::string>>> done) {
  store_->List(std::move(prefix), std::move(done));
}

}  // namespace faultline::engine
