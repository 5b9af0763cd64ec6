// CutReference (checkers/cut_reference.h) extends each key's state from cut to cut; Reference::Run
// replays from scratch. On recorded library runs with restores (TaskManager and JobManager
// failover), fallbacks to older checkpoints, unaligned checkpoints and concurrent ones, every
// key's state and processed records must be the same both ways at every cut: the cuts of every
// logged checkpoint in id order (each key's order from the histories up to it), the same cuts
// less some records (as if persisted in flight) or with some withheld at the operator's input
// (channel state), and cuts without an order log.
#include "checkers/cut_reference.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "checkers/history.h"
#include "checkers/reference.h"
#include "tests/support/library_run.h"

namespace faultline {
namespace {

using checkers::CutReference;
using checkers::KeyedOrders;
using checkers::KeyState;
using engine::Record;

using IdKey = std::tuple<uint32_t, uint32_t, uint64_t>;

// Every checkpoint id some task logged a snapshot of, ascending.
std::set<uint64_t> LoggedCheckpoints(const checkers::OrderLog& log, uint32_t tasks) {
  std::set<uint64_t> ids;
  for (uint32_t t = 0; t < tasks; ++t) {
    for (const checkers::AttemptLog* a : log.AttemptsOf(t)) {
      for (const checkers::LoggedSnapshot& s : a->snapshots) ids.insert(s.checkpoint_id);
    }
  }
  return ids;
}

// The source records the source tasks' histories emitted up to the cut.
std::vector<bool> EmittedBefore(const engine::JobSetup& setup, const KeyedOrders& orders,
                                const std::vector<checkers::SourceRecord>& sources) {
  std::set<IdKey> emitted;
  for (uint32_t task : setup.plan.tasks_of_chain[0]) {
    auto history = orders.histories.find(task);
    if (history == orders.histories.end()) continue;
    for (const checkers::HistorySegment& segment : history->second) {
      for (size_t i = 0; i < segment.emitted_end; ++i) {
        const engine::RecordId& id = segment.log->emitted[i];
        emitted.insert(IdKey{id.source, id.partition, id.offset});
      }
    }
  }
  std::vector<bool> included(sources.size());
  for (size_t i = 0; i < sources.size(); ++i) {
    const engine::RecordId& id = sources[i].id;
    included[i] = emitted.contains(IdKey{id.source, id.partition, id.offset});
  }
  return included;
}

// Reference::Run over the same input, compared key by key with the CutReference's current cut.
void ExpectSameAsFullRun(const engine::JobSetup& setup, uint32_t op,
                         const std::vector<checkers::SourceRecord>& sources,
                         const std::vector<bool>& included, const KeyedOrders* orders,
                         const CutReference& incremental, const std::string& where,
                         const std::vector<Record>& withheld = {}) {
  checkers::ReferenceInput input;
  for (size_t i = 0; i < sources.size(); ++i) {
    if (included[i]) input.sources.push_back(sources[i].record);
  }
  if (!withheld.empty()) input.withheld[op] = withheld;
  if (orders != nullptr) input.order = orders->order;
  const checkers::ReferenceResult full = checkers::Reference(setup.job).Run(input);
  const checkers::KeyStates& want =
      full.state.count(op) ? full.state.at(op) : checkers::KeyStates{};
  std::map<std::string, const KeyState*> got;
  for (const CutReference::KeyAt& k : incremental.Keys()) got.emplace(*k.key, k.state);
  ASSERT_EQ(got.size(), want.size()) << where;
  for (const auto& [key, state] : want) {
    auto it = got.find(key);
    ASSERT_NE(it, got.end()) << where << " key " << key;
    EXPECT_TRUE(*it->second == state) << where << " key " << key;
    EXPECT_EQ(incremental.Processed(key), full.processed.at(op).at(key)) << where << " key " << key;
  }
}

class CutReferenceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CutReferenceTest, EveryCutEqualsTheFullReplay) {
  // A name with a folder is under tests/; else a library scenario.
  const bool library = GetParam().find('/') == std::string::npos;
  std::unique_ptr<testing_support::LibraryRun> run = testing_support::RunLibrary(
      library ? FAULTLINE_SCENARIO_LIBRARY_DIR : FAULTLINE_REGRESSIONS_DIR "/..", GetParam());
  const checkers::RunView view = run->View();
  const engine::JobSetup& setup = *view.setup;
  uint32_t op = 0;
  while (setup.job.operators[op].kind != engine::OperatorKind::kKeyedProcess) ++op;
  const checkers::SourceIndex index(view.sources);
  CutReference incremental(setup, view.sources, index, op);
  const std::set<uint64_t> ids =
      LoggedCheckpoints(run->log, static_cast<uint32_t>(setup.plan.tasks.size()));
  ASSERT_GE(ids.size(), 3u);
  for (uint64_t id : ids) {
    const KeyedOrders orders = checkers::OrdersOf(setup, run->log, [id](uint32_t) {
      return checkers::HistoryEnd{id, std::nullopt};
    });
    const std::vector<bool> included = EmittedBefore(setup, orders, view.sources);
    const std::string where = std::string(GetParam()) + " checkpoint " + std::to_string(id);
    incremental.Advance(included, &orders);
    ExpectSameAsFullRun(setup, op, view.sources, included, &orders, incremental, where);
    // The same cut with every 89th record after it too, as if arrived but not processed: records
    // that arrive but were not logged, so the queues are not the logged order.
    std::vector<bool> more = included;
    for (size_t i = id % 89; i < more.size(); i += 89) more[i] = true;
    incremental.Advance(more, &orders);
    ExpectSameAsFullRun(setup, op, view.sources, more, &orders, incremental, where + " more");
    // The same cut less every 97th record before it, as if persisted in flight: logged records
    // that no longer arrive, so the queues are not the logged order.
    std::vector<bool> fewer = included;
    for (size_t i = id % 97; i < fewer.size(); i += 97) fewer[i] = false;
    incremental.Advance(fewer, &orders);
    ExpectSameAsFullRun(setup, op, view.sources, fewer, &orders, incremental, where + " less");
    // The same cut with every 101st record before it withheld at the operator's input, as
    // channel state in flight to it is: taken out arrival by arrival, as Reference::Run does.
    std::vector<Record> withheld;
    for (size_t i = id % 101; i < included.size(); i += 101) {
      if (!included[i]) continue;
      for (Record& r : checkers::Reference(setup.job).Arriving(op, view.sources[i].record)) {
        withheld.push_back(std::move(r));
      }
    }
    EXPECT_TRUE(incremental.Advance(included, &orders, withheld).empty()) << where;
    ExpectSameAsFullRun(setup, op, view.sources, included, &orders, incremental,
                        where + " withheld", withheld);
    // From one cut to the next, records withheld at both, at the first only and at the second
    // only: the arrivals that come back and those newly taken out (no fast path for the latter).
    std::vector<Record> shifted;
    for (size_t i = id % 103; i < included.size(); i += 103) {
      if (!included[i]) continue;
      for (Record& r : checkers::Reference(setup.job).Arriving(op, view.sources[i].record)) {
        shifted.push_back(std::move(r));
      }
    }
    std::vector<Record> both = withheld;
    both.insert(both.end(), shifted.begin(), shifted.end());
    for (const std::vector<Record>* w : {&both, &shifted, &withheld}) {
      incremental.Advance(included, &orders, *w);
      ExpectSameAsFullRun(setup, op, view.sources, included, &orders, incremental,
                          where + " withheld, shifted", *w);
    }
    if (id % 4 == 0) {  // without an order log: stream order
      incremental.Advance(included, nullptr);
      ExpectSameAsFullRun(setup, op, view.sources, included, nullptr, incremental,
                          where + " unordered");
    }
  }
  // Both ways of reaching a cut were taken: the fast path and the fold from scratch.
  EXPECT_GT(incremental.stats().extended, 0u);
  EXPECT_GT(incremental.stats().refolded, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Library, CutReferenceTest,
    ::testing::Values("jobmanager_failover.textproto", "corrupt_latest_fallback.textproto",
                      "backpressure_unaligned.textproto", "lost_writes_fallback_twice.textproto",
                      "happy_unaligned.textproto", "commit_queued_at_failure.textproto",
                      // flat_map copies without provenance before the keyed operator
                      "regressions/flatmap_before_keyed_unaligned.textproto"),
    [](const ::testing::TestParamInfo<std::string>& param) {
      const std::string file = param.param.substr(param.param.rfind('/') + 1);
      return file.substr(0, file.find('.'));
    });

}  // namespace
}  // namespace faultline
