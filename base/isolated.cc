#include "base/isolated.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>
#include <vector>

namespace faultline {

// A worker process and this process's ends of its three pipes. Requests and results are frames:
// the length (8 bytes, host order: both ends are one program on one machine), then the bytes.
struct internal::WorkerProcess {
  pid_t pid = -1;
  int to = -1;    // requests
  int from = -1;  // results
  int err = -1;   // its stderr
  std::string in;
  std::string err_text;
  std::string start_error;  // why it could not be started
};

namespace {

using Process = internal::WorkerProcess;

constexpr size_t kStderrKept = 16 * 1024;  // the tail of a worker's stderr kept for its report
constexpr int kExitCannotWrite = 70;

// This process's ends of every worker's pipes: a new worker closes them, or a worker would keep
// another's pipes open (and that one would never see the end of its requests).
std::set<int>& ParentEnds() {
  static std::set<int> fds;
  return fds;
}

void CloseFd(int& fd) {
  if (fd < 0) return;
  ParentEnds().erase(fd);
  ::close(fd);
  fd = -1;
}

// `to_worker`: the request socket, written without SIGPIPE (a worker that died must not take
// this process with it; its end shows as the end of its results).
bool WriteAll(int fd, const char* data, size_t size, bool to_worker) {
  while (size > 0) {
    const ssize_t n = to_worker ? ::send(fd, data, size, MSG_NOSIGNAL) : ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool ReadAll(int fd, char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::read(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool WriteFrame(int fd, std::string_view bytes, bool to_worker) {
  const uint64_t size = bytes.size();
  return WriteAll(fd, reinterpret_cast<const char*>(&size), sizeof size, to_worker) &&
         WriteAll(fd, bytes.data(), bytes.size(), to_worker);
}

// Takes one whole frame off the front of `in`.
std::optional<std::string> TakeFrame(std::string& in) {
  uint64_t size = 0;
  if (in.size() < sizeof size) return std::nullopt;
  std::memcpy(&size, in.data(), sizeof size);
  if (in.size() - sizeof size < size) return std::nullopt;
  std::string out = in.substr(sizeof size, size);
  in.erase(0, sizeof size + size);
  return out;
}

// The worker: serves requests until they end, and leaves without running this program's exit
// handlers or destructors (they belong to the parent).
[[noreturn]] void WorkerMain(int requests, int results,
                             const std::function<std::string(std::string_view)>& work) {
  while (true) {
    uint64_t size = 0;
    if (!ReadAll(requests, reinterpret_cast<char*>(&size), sizeof size)) break;
    std::string request(size, '\0');
    if (!ReadAll(requests, request.data(), size)) break;
    const std::string result = work(request);
    std::fflush(nullptr);
    if (!WriteFrame(results, result, false)) ::_exit(kExitCannotWrite);
  }
  std::fflush(nullptr);
  ::_exit(0);
}

Process Spawn(const std::function<std::string(std::string_view)>& work) {
  Process p;
  int to[2] = {-1, -1};
  int from[2] = {-1, -1};
  int err[2] = {-1, -1};
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, to) != 0 || ::pipe(from) != 0 || ::pipe(err) != 0) {
    p.start_error = std::string("pipe: ") + std::strerror(errno);
    for (int fd : {to[0], to[1], from[0], from[1], err[0], err[1]}) {
      if (fd >= 0) ::close(fd);
    }
    return p;
  }
  std::fflush(nullptr);  // or the worker would write this process's buffered output again
  p.pid = ::fork();
  if (p.pid == 0) {
    for (int fd : ParentEnds()) ::close(fd);
    ::close(to[1]);
    ::close(from[0]);
    ::close(err[0]);
    ::dup2(err[1], STDERR_FILENO);
    ::close(err[1]);
    WorkerMain(to[0], from[1], work);
  }
  ::close(to[0]);
  ::close(from[1]);
  ::close(err[1]);
  if (p.pid < 0) {
    p.start_error = std::string("fork: ") + std::strerror(errno);
    for (int fd : {to[1], from[0], err[0]}) ::close(fd);
    return p;
  }
  p.to = to[1];
  p.from = from[0];
  p.err = err[0];
  ParentEnds().insert({p.to, p.from, p.err});
  return p;
}

void KeepTail(std::string& text) {
  if (text.size() > kStderrKept) text.erase(0, text.size() - kStderrKept);
}

// Reads what is there; closes the descriptor at its end.
void Drain(int& fd, std::string& into, bool tail_only) {
  char buf[65536];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    CloseFd(fd);
    return;
  }
  into.append(buf, static_cast<size_t>(n));
  if (tail_only) KeepTail(into);
}

// Passes on what a completed request wrote on stderr.
void PassOnStderr(Process& p) {
  if (!p.err_text.empty()) std::fwrite(p.err_text.data(), 1, p.err_text.size(), stderr);
  p.err_text.clear();
}

// The worker's results ended: it is gone. Reads the rest of its stderr, reaps it, says how.
ChildEnd Ended(Process& p) {
  ChildEnd end;
  if (p.pid < 0) {
    end.exit_code = -1;
    end.stderr_tail = p.start_error;
    return end;
  }
  ::kill(p.pid, SIGKILL);  // should it still run (it closed its results itself)
  while (p.err >= 0) Drain(p.err, p.err_text, true);
  CloseFd(p.to);
  CloseFd(p.from);
  int status = 0;
  while (::waitpid(p.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    end.signal = WTERMSIG(status);
  } else {
    end.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  end.stderr_tail = std::move(p.err_text);
  p.pid = -1;
  return end;
}

// Ends a worker that has no request: it sees the end of its requests and exits.
void Retire(Process& p) {
  CloseFd(p.to);
  while (p.from >= 0) Drain(p.from, p.in, false);
  while (p.err >= 0) Drain(p.err, p.err_text, true);
  PassOnStderr(p);
  if (p.pid > 0) {
    int status = 0;
    while (::waitpid(p.pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  p.pid = -1;
}

// Waits until one of the workers' descriptors has something (or ended); reads it.
void PollOnce(std::vector<Process*>& busy) {
  std::vector<pollfd> fds;
  for (const Process* p : busy) {
    if (p->from >= 0) fds.push_back(pollfd{p->from, POLLIN, 0});
    if (p->err >= 0) fds.push_back(pollfd{p->err, POLLIN, 0});
  }
  if (fds.empty()) return;
  if (::poll(fds.data(), fds.size(), -1) < 0) return;  // EINTR: the caller polls again
  for (Process* p : busy) {
    for (const pollfd& f : fds) {
      if (f.revents == 0) continue;
      if (f.fd == p->from) Drain(p->from, p->in, false);
      if (f.fd == p->err) Drain(p->err, p->err_text, true);
    }
  }
}

// The outcome of a busy worker's request, once there is one: its result, or how it ended.
std::optional<ChildOutcome> Outcome(Process& p) {
  ChildOutcome out;
  if (std::optional<std::string> frame = TakeFrame(p.in)) {
    out.completed = true;
    out.payload = std::move(*frame);
    PassOnStderr(p);
    return out;
  }
  if (p.from >= 0 && p.pid > 0) return std::nullopt;
  out.end = Ended(p);
  return out;
}

}  // namespace

std::string ChildEnd::HowItEnded() const {
  if (signal != 0) {
    const char* abbrev = sigabbrev_np(signal);
    const char* desc = sigdescr_np(signal);
    std::string out = abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(signal);
    if (signal != SIGABRT && desc != nullptr) out += std::string(" (") + desc + ")";
    return out;
  }
  if (exit_code < 0) return "not started";
  return "exit code " + std::to_string(exit_code);
}

namespace {

std::string_view LastLine(std::string_view text, std::string_view containing) {
  std::string_view found;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(at, end - at);
    if (!line.empty() && line.find(containing) != std::string_view::npos) found = line;
    at = end + 1;
  }
  return found;
}

}  // namespace

std::string ChildEnd::Reason() const {
  std::string_view line = LastLine(stderr_tail, "assertion failed");
  if (line.empty()) line = LastLine(stderr_tail, "");
  return line.empty() ? HowItEnded() : std::string(line);
}

std::string ChildEnd::Describe() const {
  std::string out = "the run crashed (" + HowItEnded() + "): " + Reason();
  const std::string_view tail = stderr_tail;
  if (tail.find('\n') != std::string_view::npos && tail.find('\n') + 1 < tail.size()) {
    out += "\nits stderr ended with:\n" + stderr_tail;
  }
  return out;
}

IsolatedWorker::IsolatedWorker(std::function<std::string(std::string_view)> work)
    : work_(std::move(work)) {}

IsolatedWorker::~IsolatedWorker() {
  if (process_ != nullptr) Retire(*process_);
  delete process_;
}

ChildOutcome IsolatedWorker::Call(std::string_view request) {
  if (process_ == nullptr) process_ = new internal::WorkerProcess(Spawn(work_));
  internal::WorkerProcess& p = *process_;
  if (p.pid > 0) WriteFrame(p.to, request, true);  // a failure shows as the results' end
  std::vector<internal::WorkerProcess*> busy = {&p};
  std::optional<ChildOutcome> out;
  while (!(out = Outcome(p))) PollOnce(busy);
  if (!out->completed) {
    delete process_;
    process_ = nullptr;
  }
  return std::move(*out);
}

uint64_t RunIsolatedInOrder(uint64_t count, unsigned jobs, const std::function<bool()>& stop,
                            const std::function<std::string(uint64_t)>& work,
                            const std::function<void(uint64_t, ChildOutcome&)>& deliver) {
  const auto serve = [&](std::string_view request) {
    uint64_t i = 0;
    std::memcpy(&i, request.data(), std::min(request.size(), sizeof i));
    return work(i);
  };
  struct Slot {
    internal::WorkerProcess process;
    std::optional<uint64_t> index;  // the request it serves
  };
  std::vector<Slot> workers(std::max<uint64_t>(1, std::min<uint64_t>(jobs, count)));
  std::vector<std::optional<ChildOutcome>> slots(count);
  uint64_t next = 0;
  uint64_t delivered = 0;
  bool stopped = false;
  while (true) {
    for (Slot& w : workers) {
      if (w.index || stopped || next >= count) continue;
      if (stop()) {
        stopped = true;
        break;
      }
      if (w.process.pid <= 0 && w.process.start_error.empty()) w.process = Spawn(serve);
      w.index = next++;
      const uint64_t i = *w.index;
      // A write that fails shows as the end of the worker's results.
      if (w.process.pid > 0) {
        WriteFrame(w.process.to, std::string_view(reinterpret_cast<const char*>(&i), sizeof i),
                   true);
      }
    }
    std::vector<internal::WorkerProcess*> busy;
    for (Slot& w : workers) {
      if (w.index) busy.push_back(&w.process);
    }
    if (busy.empty()) break;
    PollOnce(busy);
    for (Slot& w : workers) {
      if (!w.index) continue;
      std::optional<ChildOutcome> out = Outcome(w.process);
      if (!out) continue;
      slots[*w.index] = std::move(*out);
      w.index.reset();
      if (w.process.pid <= 0)
        w.process = internal::WorkerProcess{};  // ended: a new one for the next request
    }
    while (delivered < count && slots[delivered]) {
      deliver(delivered, *slots[delivered]);
      slots[delivered].reset();
      ++delivered;
    }
  }
  for (Slot& w : workers) {
    if (w.process.pid > 0) Retire(w.process);
  }
  return delivered;
}

}  // namespace faultline
