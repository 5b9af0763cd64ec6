// The operator catalogue: names unique per kind, and every entry validates and builds into a job.
#include "scenarios/operators.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "scenarios/loader.h"

namespace faultline::scenarios::internal {
namespace {

std::string_view KindField(CatalogueKind kind) {
  switch (kind) {
    case CatalogueKind::kMap:
      return "map { function: ";
    case CatalogueKind::kFilter:
      return "filter { predicate: ";
    case CatalogueKind::kFlatMap:
      return "flat_map { function: ";
    case CatalogueKind::kKeyBy:
      return "key_by { selector: ";
    case CatalogueKind::kAggregate:
      return "aggregate { function: ";
  }
  return "";
}

// A job that uses `e`: source -> [e] -> (key_by ->) aggregate -> sink.
std::string JobWith(const CatalogueEntry& e) {
  std::string op = std::string(KindField(e.kind)) + "\"" + std::string(e.name) + "\"";
  if (e.takes_arg) op += " arg: " + std::to_string(e.arg_min < 1 ? 1 : e.arg_min);
  op = "operators { " + op + " } }\n";
  std::string ops = "operators { source { partitions: 2 records_per_partition: 10 } }\n";
  if (e.kind == CatalogueKind::kAggregate) {
    ops += "operators { key_by {} }\n" + op;
  } else if (e.kind == CatalogueKind::kKeyBy) {
    ops += op + "operators { aggregate { function: \"count\" } }\n";
  } else {
    ops += op;
  }
  return "name: \"catalogue\"\njob {\n" + ops + "operators { sink {} }\n}\n";
}

TEST(OperatorCatalogueTest, NamesAreUniquePerKind) {
  std::set<std::pair<CatalogueKind, std::string_view>> seen;
  for (const CatalogueEntry& e : Catalogue()) {
    EXPECT_TRUE(seen.insert({e.kind, e.name}).second) << e.name;
    EXPECT_NE(e.add, nullptr) << e.name;
    EXPECT_LE(e.arg_min, e.arg_max) << e.name;
  }
}

TEST(OperatorCatalogueTest, EveryEntryValidatesAndBuilds) {
  for (const CatalogueEntry& e : Catalogue()) {
    const std::string text = JobWith(e);
    Result<Scenario> s = ParseScenario(text, "catalogue.textproto");
    ASSERT_TRUE(s.ok()) << s.status().message() << "\n" << text;
    Result<engine::JobGraph> graph = ToJobGraph(s->spec);
    EXPECT_TRUE(graph.ok()) << e.name << ": " << graph.status().message();
  }
}

}  // namespace
}  // namespace faultline::scenarios::internal
