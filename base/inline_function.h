// InlineFunction<R(Args...), N>: a move-only callable stored in N bytes inside the object, with
// no heap allocation ever. The event loop's hot path holds one per event. A callable that does
// not fit is a compile error, so the bound is visible where the callable is written.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

#include "base/assert.h"

namespace faultline {

template <typename Signature, size_t kCapacity = 40>
class InlineFunction;

template <typename R, typename... Args, size_t kCapacity>
class InlineFunction<R(Args...), kCapacity> {
 public:
  InlineFunction() = default;
  InlineFunction(std::nullptr_t) {}  // NOLINT(google-explicit-constructor)

  template <typename F,
            typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, InlineFunction> &&
                                        std::is_invocable_r_v<R, std::decay_t<F>&, Args...>>>
  InlineFunction(F&& f) {  // NOLINT(google-explicit-constructor)
    Construct(std::forward<F>(f));
  }

  // Replaces the callable, building the new one in place (no intermediate move).
  template <typename F,
            typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, InlineFunction> &&
                                        std::is_invocable_r_v<R, std::decay_t<F>&, Args...>>>
  void Emplace(F&& f) {
    Reset();
    Construct(std::forward<F>(f));
  }

  InlineFunction(InlineFunction&& other) noexcept { MoveFrom(other); }
  InlineFunction& operator=(InlineFunction&& other) noexcept {
    if (this != &other) {
      Reset();
      MoveFrom(other);
    }
    return *this;
  }
  InlineFunction(const InlineFunction&) = delete;
  InlineFunction& operator=(const InlineFunction&) = delete;
  ~InlineFunction() { Reset(); }

  explicit operator bool() const { return ops_ != nullptr; }

  R operator()(Args... args) {
    FL_ASSERT(ops_ != nullptr, "calling an empty InlineFunction");
    return ops_->invoke(storage_, std::forward<Args>(args)...);
  }

  void Reset() {
    if (ops_ != nullptr) {
      if (ops_->destroy != nullptr) ops_->destroy(storage_);
      ops_ = nullptr;
    }
  }

 private:
  struct Ops {
    R (*invoke)(void*, Args&&...);
    void (*move)(void* from, void* to);
    void (*destroy)(void*);
  };

  template <typename Stored>
  static constexpr Ops kOpsFor = {
      [](void* self, Args&&... args) -> R {
        return (*static_cast<Stored*>(self))(std::forward<Args>(args)...);
      },
      [](void* from, void* to) {
        ::new (to) Stored(std::move(*static_cast<Stored*>(from)));
        static_cast<Stored*>(from)->~Stored();
      },
      // Trivially destructible callables (most: a few pointers and ids) skip the call.
      std::is_trivially_destructible_v<Stored>
          ? nullptr
          : +[](void* self) { static_cast<Stored*>(self)->~Stored(); },
  };

  template <typename F>
  void Construct(F&& f) {
    using Stored = std::decay_t<F>;
    static_assert(sizeof(Stored) <= kCapacity,
                  "callable too large for InlineFunction: capture less, or capture a pointer");
    static_assert(alignof(Stored) <= alignof(void*), "over-aligned callable");
    static_assert(std::is_nothrow_move_constructible_v<Stored>);
    ::new (static_cast<void*>(storage_)) Stored(std::forward<F>(f));
    ops_ = &kOpsFor<Stored>;
  }

  void MoveFrom(InlineFunction& other) {
    if (other.ops_ != nullptr) {
      other.ops_->move(other.storage_, storage_);
      ops_ = other.ops_;
      other.ops_ = nullptr;
    }
  }

  // ops_ first: a reader touching the first cache line gets it with the start of the captures.
  const Ops* ops_ = nullptr;
  alignas(void*) std::byte storage_[kCapacity];
};

}  // namespace faultline
