// Runs in worker processes (docs/search.md, "A crash is a finding"): a seed whose run crashes (an
// engine assertion, a user function that aborts, a segmentation fault) must not take the
// exploration or the minimization down with it. Work runs in forks of the caller that serve
// requests one after another (so a worker's heap stays warm, as a thread's would); a request
// hands back the bytes its work produced, or how the worker ended (the signal or exit code and
// the tail of what it wrote on stderr). A worker that ended is replaced for the next request.
//
// The caller must be single-threaded when it calls these (fork copies only the calling thread),
// and work must not rely on writes to the caller's memory: a worker's writes stay in the worker.
//
//   RunIsolatedInOrder(n, 2, no_stop,
//       [&](uint64_t i) { return Encode(RunSeed(i)); },
//       [&](uint64_t i, ChildOutcome& o) { use(i, o.ok() ? Decode(o.payload) : o.end); });
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace faultline {

namespace internal {
struct WorkerProcess;  // base/isolated.cc
}  // namespace internal

// How a worker ended without handing back its result.
struct ChildEnd {
  int signal = 0;     // the signal that ended it; 0: it exited
  int exit_code = 0;  // its exit code, when it exited; -1: it could not be started
  std::string stderr_tail;

  // "SIGABRT", "SIGSEGV (Segmentation fault)", or "exit code 3".
  std::string HowItEnded() const;
  // The line that names the failure: the assertion message it printed when there is one
  // ("engine/exec/task.cc:120: assertion failed: ..."), else the last line it wrote on stderr,
  // else HowItEnded(). Stable across seeds that hit the same bug (no pids, no addresses).
  std::string Reason() const;
  // "the run crashed (SIGABRT): <Reason()>", then the stderr tail when it says more.
  std::string Describe() const;
};

struct ChildOutcome {
  bool ok() const { return completed; }
  bool completed = false;  // the work returned and its result arrived whole
  std::string payload;
  ChildEnd end;  // when !completed
};

// One worker process serving requests in turn: Call(request) runs work(request) in it. What the
// work writes on stderr is passed on to this process's stderr when it completes, and kept in
// `end.stderr_tail` when it does not.
class IsolatedWorker {
 public:
  explicit IsolatedWorker(std::function<std::string(std::string_view)> work);
  ~IsolatedWorker();
  IsolatedWorker(const IsolatedWorker&) = delete;
  IsolatedWorker& operator=(const IsolatedWorker&) = delete;

  ChildOutcome Call(std::string_view request);

 private:
  std::function<std::string(std::string_view)> work_;
  internal::WorkerProcess* process_ = nullptr;
};

// Runs work(i) for i in [0, count) in up to `jobs` worker processes and hands each outcome to
// deliver(i, outcome) in index order as soon as every earlier index is delivered. Starts no new
// index once stop() says so; returns how many were delivered (a prefix of the indices).
uint64_t RunIsolatedInOrder(uint64_t count, unsigned jobs, const std::function<bool()>& stop,
                            const std::function<std::string(uint64_t)>& work,
                            const std::function<void(uint64_t, ChildOutcome&)>& deliver);

}  // namespace faultline
