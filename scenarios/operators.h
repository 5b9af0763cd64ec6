// The operator catalogue: every function a scenario's operators may name (map functions, filter
// predicates, flat_map functions, key selectors, keyed aggregates), in one table of name,
// argument and factory. Validation reads the names and argument ranges from it, the conversion
// to a job graph its factories; docs/scenarios.md lists the same entries.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/api/job.h"
#include "scenarios/validation.h"

namespace faultline::scenarios::internal {

// The operator kinds whose behaviour is a catalogue function (sources and sinks are not).
enum class CatalogueKind : uint8_t { kMap, kFilter, kFlatMap, kKeyBy, kAggregate };

struct CatalogueEntry {
  CatalogueKind kind;
  std::string_view name;  // "double", "value-at-least", "running-sum"
  bool takes_arg;         // requires `arg`, within [arg_min, arg_max]; else takes none
  int64_t arg_min;
  int64_t arg_max;
  // Adds the operator to `stream` (key_by: repartitions it). `name` is the operator's name.
  void (*add)(engine::DataStream& stream, const std::string& name, int64_t arg,
              uint32_t parallelism, uint32_t max_parallelism);
};

std::span<const CatalogueEntry> Catalogue();

// The catalogue kind of an operator; nullopt for sources and sinks.
std::optional<CatalogueKind> CatalogueKindOf(const proto::Operator& op);

// Validates the operator's function (or predicate, selector) and its arg against the catalogue:
// "job.operators[1].map.function: unknown map function ...", "... .arg: 99 is outside [1, 16]".
Check CatalogueFields(const Path& op_path, const proto::Operator& op);

// Adds a validated catalogue operator to `stream`.
void AddCatalogueOperator(engine::DataStream& stream, const proto::Operator& op,
                          const std::string& name, uint32_t parallelism, uint32_t max_parallelism);

}  // namespace faultline::scenarios::internal
