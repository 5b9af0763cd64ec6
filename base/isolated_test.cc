#include "base/isolated.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "base/assert.h"

namespace faultline {
namespace {

// What each index does in the worker: 2 fails an assertion, 4 dies of SIGSEGV, 5 exits without a
// result, 3 returns more than a pipe holds; the others return their name (1 also writes stderr).
std::string Work(uint64_t i) {
  if (i == 1) std::fputs("index 1 says hello on stderr\n", stderr);
  if (i == 2) FL_ASSERT(i != 2, "planted for the test");
  if (i == 4) std::raise(SIGSEGV);
  if (i == 5) std::_Exit(3);
  if (i == 3) return std::string(3 << 20, 'x');
  return "result " + std::to_string(i);
}

TEST(IsolatedTest, CrashesAreOutcomesInIndexOrder) {
  std::vector<uint64_t> order;
  std::vector<ChildOutcome> outcomes;
  const uint64_t delivered = RunIsolatedInOrder(
      8, 2, [] { return false; }, Work,
      [&](uint64_t i, ChildOutcome& o) {
        order.push_back(i);
        outcomes.push_back(o);
      });
  ASSERT_EQ(delivered, 8u);
  ASSERT_EQ(order, (std::vector<uint64_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  for (uint64_t i : {0u, 1u, 6u, 7u}) {
    ASSERT_TRUE(outcomes[i].ok()) << i << " " << outcomes[i].end.Describe();
    EXPECT_EQ(outcomes[i].payload, "result " + std::to_string(i));
  }
  ASSERT_TRUE(outcomes[3].ok());
  EXPECT_EQ(outcomes[3].payload.size(), size_t{3} << 20);

  const ChildEnd& assertion = outcomes[2].end;
  EXPECT_FALSE(outcomes[2].ok());
  EXPECT_EQ(assertion.signal, SIGABRT);
  EXPECT_EQ(assertion.HowItEnded(), "SIGABRT");
  EXPECT_NE(assertion.Reason().find("isolated_test.cc:"), std::string::npos) << assertion.Reason();
  EXPECT_NE(assertion.Reason().find("assertion failed: i != 2 (planted for the test)"),
            std::string::npos)
      << assertion.Reason();
  EXPECT_EQ(assertion.Reason().find("hello"), std::string::npos) << "another index's stderr";

  EXPECT_EQ(outcomes[4].end.signal, SIGSEGV);
  EXPECT_EQ(outcomes[4].end.Reason(), "SIGSEGV (Segmentation fault)");
  EXPECT_EQ(outcomes[5].end.signal, 0);
  EXPECT_EQ(outcomes[5].end.exit_code, 3);
  EXPECT_EQ(outcomes[5].end.Reason(), "exit code 3");
}

TEST(IsolatedTest, StopEndsTheRangeAtAPrefix) {
  uint64_t asked = 0;
  std::vector<std::string> got;
  const uint64_t delivered = RunIsolatedInOrder(
      100, 2, [&] { return ++asked > 5; }, [](uint64_t i) { return std::to_string(i); },
      [&](uint64_t, ChildOutcome& o) { got.push_back(o.payload); });
  EXPECT_EQ(delivered, 5u);
  EXPECT_EQ(got, (std::vector<std::string>{"0", "1", "2", "3", "4"}));
}

// A worker serves requests in turn; one that crashed is replaced for the next request, and the
// work sees this process's state as it was when the worker started.
TEST(IsolatedTest, AWorkerThatCrashedIsReplaced) {
  int calls_in_worker = 0;
  IsolatedWorker worker([&](std::string_view request) {
    ++calls_in_worker;  // the worker's own copy
    if (request == "crash") std::abort();
    return std::string(request) + " after " + std::to_string(calls_in_worker - 1);
  });
  EXPECT_EQ(worker.Call("a").payload, "a after 0");
  EXPECT_EQ(worker.Call("b").payload, "b after 1");
  const ChildOutcome crashed = worker.Call("crash");
  EXPECT_FALSE(crashed.ok());
  EXPECT_EQ(crashed.end.signal, SIGABRT);
  EXPECT_EQ(worker.Call("c").payload, "c after 0");  // a fresh worker
  EXPECT_EQ(calls_in_worker, 0);                     // nothing ran here
}

}  // namespace
}  // namespace faultline
