// Status and Result<T>: operating errors as values (I/O failure, corrupt blob, bad input).
// Programmer errors are FL_ASSERTs instead. Codes follow absl's canonical codes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "base/assert.h"

namespace faultline {

enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kResourceExhausted = 8,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);

  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  std::string_view message() const { return rep_ ? std::string_view(rep_->message) : ""; }

  // "CODE: message", or "OK".
  std::string ToString() const;

  // Returns a status with the same code and `context + ": " + message`.
  Status WithContext(std::string_view context) const;

  // Marks a status that is deliberately dropped.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code() == b.code() && a.message() == b.message();
  }

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  // Shared and immutable: copying a status never allocates.
  std::shared_ptr<const Rep> rep_;
};

Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status UnavailableError(std::string message);
Status DataLossError(std::string message);
Status DeadlineExceededError(std::string message);
Status AbortedError(std::string message);
Status InternalError(std::string message);
Status FailedPreconditionError(std::string message);
Status ResourceExhaustedError(std::string message);
Status OutOfRangeError(std::string message);
Status CancelledError(std::string message);
Status UnimplementedError(std::string message);

// Result<T>: a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    FL_ASSERT(!status_.ok(), "a Result is built from an error status or a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  const T& value() const& {
    FL_ASSERT(ok(), "value() of an error Result");
    return *value_;
  }
  T& value() & {
    FL_ASSERT(ok(), "value() of an error Result");
    return *value_;
  }
  T&& value() && {
    FL_ASSERT(ok(), "value() of an error Result");
    return std::move(*value_);
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  T value_or(T fallback) const& { return ok() ? *value_ : std::move(fallback); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace faultline

// Returns the status from the enclosing function when it is not OK.
#define FL_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::faultline::Status fl_status_ = (expr); \
    if (!fl_status_.ok()) return fl_status_; \
  } while (false)

// Returns `expr` from the enclosing function when it holds a value (an optional issue: a
// validation that answers std::nullopt when all is well).
#define FL_RETURN_IF_ENGAGED(expr)   \
  do {                               \
    if (auto fl_engaged_ = (expr)) { \
      return fl_engaged_;            \
    }                                \
  } while (false)

#define FL_CONCAT_INNER(a, b) a##b
#define FL_CONCAT(a, b) FL_CONCAT_INNER(a, b)
#define FL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
// FL_ASSIGN_OR_RETURN(auto x, ComputeX()); returns the error status if ComputeX() failed.
#define FL_ASSIGN_OR_RETURN(lhs, expr) \
  FL_ASSIGN_OR_RETURN_IMPL(FL_CONCAT(fl_result_, __LINE__), lhs, expr)
