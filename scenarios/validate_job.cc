// The job section of a scenario: its validation (operators, names, parallelism, the source's
// data) and its conversion to an engine::JobGraph; the functions come from the catalogue
// (scenarios/operators.h).
#include <algorithm>
#include <limits>
#include <map>

#include "base/text.h"
#include "scenarios/operators.h"
#include "scenarios/passes.h"

namespace faultline::scenarios::internal {
namespace {

std::string_view KindName(const proto::Operator& op) {
  switch (op.kind_case()) {
    case proto::Operator::kSource:
      return "source";
    case proto::Operator::kMap:
      return "map";
    case proto::Operator::kFilter:
      return "filter";
    case proto::Operator::kFlatMap:
      return "flat_map";
    case proto::Operator::kKeyBy:
      return "key_by";
    case proto::Operator::kAggregate:
      return "aggregate";
    case proto::Operator::kSink:
      return "sink";
    case proto::Operator::KIND_NOT_SET:
      break;
  }
  return "nothing";
}

std::string DefaultName(const proto::Operator& op) {
  switch (op.kind_case()) {
    case proto::Operator::kMap:
      return op.map().function();
    case proto::Operator::kFilter:
      return op.filter().predicate();
    case proto::Operator::kFlatMap:
      return op.flat_map().function();
    case proto::Operator::kAggregate:
      return op.aggregate().function();
    default:
      return std::string(KindName(op));
  }
}

Check ValidateSource(const Path& op_path, const proto::Source& s, uint32_t parallelism) {
  const Path path = At(op_path, "source");
  FL_RETURN_IF_ISSUE(
      InRange(At(path, "partitions"), s.has_partitions(), s.partitions(), 1, kMaxPartitions));
  const uint32_t partitions = s.has_partitions() ? s.partitions() : kDefaultPartitions;
  const uint64_t per =
      s.has_records_per_partition() ? s.records_per_partition() : kDefaultRecordsPerPartition;
  if (uint64_t{partitions} * per > kMaxSourceRecords) {
    return Fail(At(path, "records_per_partition"),
                std::to_string(partitions) + " partitions x " + std::to_string(per) +
                    " records is more than " + std::to_string(kMaxSourceRecords) + " records");
  }
  FL_RETURN_IF_ISSUE(InRange(At(path, "keys"), s.has_keys(), s.keys(), 1, kMaxKeys));
  if (!proto::Source::KeyPattern_IsValid(s.key_pattern())) {
    return Fail(At(path, "key_pattern"), "unknown value " + std::to_string(s.key_pattern()));
  }
  using VP = proto::Source;
  switch (s.value_pattern()) {
    case VP::CONSTANT:
      break;
    case VP::SEQUENCE:
      break;
    case VP::CYCLE:
      if (s.has_modulus() && s.modulus() == 0) {
        return Fail(At(path, "modulus"), "must be at least 1");
      }
      break;
    case VP::UNIFORM_RANGE:
      if (s.min() > s.max()) {
        return Fail(At(path, "max"),
                    std::to_string(s.max()) + " is below min " + std::to_string(s.min()));
      }
      break;
    default:
      return Fail(At(path, "value_pattern"), "unknown value " + std::to_string(s.value_pattern()));
  }
  if (s.has_value() && s.value_pattern() != VP::CONSTANT) {
    return Fail(At(path, "value"), "is used only with value_pattern CONSTANT");
  }
  if (s.has_modulus() && s.value_pattern() != VP::CYCLE) {
    return Fail(At(path, "modulus"), "is used only with value_pattern CYCLE");
  }
  if ((s.min() != 0 || s.max() != 0) && s.value_pattern() != VP::UNIFORM_RANGE) {
    return Fail(At(path, s.min() != 0 ? "min" : "max"),
                "is used only with value_pattern UNIFORM_RANGE");
  }
  if (s.has_max_records_per_read() &&
      (s.max_records_per_read() == 0 || s.max_records_per_read() > kMaxRecordsPerRead)) {
    return Outside(At(path, "max_records_per_read"), s.max_records_per_read(), 1,
                   kMaxRecordsPerRead);
  }
  if (parallelism > partitions) {
    return Fail(At(op_path, "parallelism"),
                std::to_string(parallelism) + " is above the source's " +
                    std::to_string(partitions) + " partitions (subtasks would read nothing)");
  }
  return std::nullopt;
}

}  // namespace

Check ValidateJob(const proto::Scenario& scenario, JobInfo* info) {
  const Path job_path{{"job", -1}};
  const proto::Job& job = scenario.job();
  if (!scenario.has_job()) return Fail(job_path, "missing: a scenario needs a job");
  info->name = job.name().empty() ? scenario.name() : job.name();
  if (!job.name().empty() && !ValidName(job.name())) {
    return Fail(At(job_path, "name"),
                Quote(job.name()) + " is not a name (1 to 64 of A-Z a-z 0-9 _ - .)");
  }
  FL_RETURN_IF_ISSUE(InRange(At(job_path, "parallelism"), job.has_parallelism(), job.parallelism(),
                             1, kMaxParallelism));
  FL_RETURN_IF_ISSUE(InRange(At(job_path, "max_parallelism"), job.has_max_parallelism(),
                             job.max_parallelism(), 1, kMaxParallelism));
  const uint32_t default_parallelism =
      job.has_parallelism() ? job.parallelism() : kDefaultParallelism;
  const int n = job.operators_size();
  const Path ops_path = At(job_path, "operators");
  if (n == 0) return Fail(ops_path, "missing: a job needs a source and a sink");

  std::map<std::string, int> names;
  uint64_t subtasks = 0;
  for (int i = 0; i < n; ++i) {
    const proto::Operator& op = job.operators(i);
    const Path path = At(job_path, "operators", i);
    const auto kind = op.kind_case();
    if (kind == proto::Operator::KIND_NOT_SET) {
      return Fail(path,
                  "no operator kind set (one of source, map, filter, flat_map, key_by, "
                  "aggregate, sink)");
    }
    const bool first = i == 0;
    const bool last = i == n - 1;
    if (first && kind != proto::Operator::kSource) {
      return Fail(path, "the first operator must be the source, not " + std::string(KindName(op)) +
                            " (missing source)");
    }
    if (!first && kind == proto::Operator::kSource) {
      return Fail(path, "a job has one source, and it comes first");
    }
    if (last && kind != proto::Operator::kSink) {
      return Fail(path, "the last operator must be a sink, not " + std::string(KindName(op)) +
                            " (missing sink)");
    }
    if (!last && kind == proto::Operator::kSink) {
      return Fail(path, "a job has one sink, and it comes last");
    }
    const proto::Operator* prev = first ? nullptr : &job.operators(i - 1);
    const bool after_key_by = prev != nullptr && prev->kind_case() == proto::Operator::kKeyBy;

    ResolvedOp resolved;
    if (kind == proto::Operator::kKeyBy) {
      if (!op.name().empty() || op.has_parallelism() || op.has_max_parallelism() ||
          !op.record_cost().empty() || op.input() != proto::Operator::DEFAULT) {
        const char* field = !op.name().empty()          ? "name"
                            : op.has_parallelism()      ? "parallelism"
                            : op.has_max_parallelism()  ? "max_parallelism"
                            : !op.record_cost().empty() ? "record_cost"
                                                        : "input";
        return Fail(At(path, field), "key_by is not an operator of its own: it has no " +
                                         std::string(field) +
                                         " (it repartitions the input of the next operator)");
      }
      if (after_key_by) return Fail(path, "two key_by in a row");
      const proto::Operator& next = job.operators(i + 1);  // i is not last: a sink is last
      if (next.kind_case() != proto::Operator::kAggregate &&
          next.kind_case() != proto::Operator::kSink) {
        return Fail(path, "key_by must be followed by an aggregate or the sink, not " +
                              std::string(KindName(next)));
      }
      FL_RETURN_IF_ISSUE(CatalogueFields(path, op));
      info->ops.push_back(resolved);
      continue;
    }

    // Name.
    resolved.name = op.name().empty() ? DefaultName(op) : op.name();
    if (!ValidName(resolved.name)) {
      return Fail(At(path, "name"),
                  Quote(resolved.name) + " is not a name (1 to 64 of A-Z a-z 0-9 _ - .)");
    }
    if (auto it = names.find(resolved.name); it != names.end()) {
      return Fail(At(path, "name"), Quote(resolved.name) + " is already the name of operators[" +
                                        std::to_string(it->second) + "]" +
                                        (op.name().empty() ? " (give this one a name)" : ""));
    }
    names[resolved.name] = i;

    // Parallelism and max parallelism.
    FL_RETURN_IF_ISSUE(InRange(At(path, "parallelism"), op.has_parallelism(), op.parallelism(), 1,
                               kMaxParallelism));
    resolved.parallelism = op.has_parallelism() ? op.parallelism() : default_parallelism;
    const bool keyed = kind == proto::Operator::kAggregate;
    if (op.has_max_parallelism()) {
      if (!keyed) {
        return Fail(At(path, "max_parallelism"),
                    "only keyed aggregates have a max parallelism (this is a " +
                        std::string(KindName(op)) + ")");
      }
      if (op.max_parallelism() == 0 || op.max_parallelism() > kMaxParallelism) {
        return Outside(At(path, "max_parallelism"), op.max_parallelism(), 1, kMaxParallelism);
      }
    }
    if (keyed) {
      resolved.max_parallelism = op.has_max_parallelism()    ? op.max_parallelism()
                                 : job.has_max_parallelism() ? job.max_parallelism()
                                                             : 0;
      if (resolved.max_parallelism != 0 && resolved.parallelism > resolved.max_parallelism) {
        return Fail(At(path, "parallelism"),
                    std::to_string(resolved.parallelism) + " is above " +
                        (op.has_max_parallelism() ? "max_parallelism " : "job.max_parallelism ") +
                        std::to_string(resolved.max_parallelism));
      }
    }
    subtasks += resolved.parallelism;
    info->highest_parallelism = std::max(info->highest_parallelism, resolved.parallelism);

    // Record cost and input partitioning.
    FL_RETURN_IF_ISSUE(DurationField(At(path, "record_cost"), op.record_cost(), Duration::Zero(),
                                     Sign::kNonNegative, &resolved.record_cost));
    if (!proto::Operator::Input_IsValid(op.input())) {
      return Fail(At(path, "input"), "unknown value " + std::to_string(op.input()));
    }
    if (op.input() != proto::Operator::DEFAULT) {
      if (first) return Fail(At(path, "input"), "the source has no input");
      if (after_key_by) {
        return Fail(At(path, "input"),
                    "the input of an operator after key_by is partitioned by key");
      }
    }

    // The kind's own settings.
    switch (kind) {
      case proto::Operator::kSource:
        FL_RETURN_IF_ISSUE(ValidateSource(path, op.source(), resolved.parallelism));
        info->partitions =
            op.source().has_partitions() ? op.source().partitions() : kDefaultPartitions;
        break;
      case proto::Operator::kMap:
      case proto::Operator::kFilter:
      case proto::Operator::kFlatMap:
        FL_RETURN_IF_ISSUE(CatalogueFields(path, op));
        break;
      case proto::Operator::kAggregate: {
        if (!after_key_by) {
          return Fail(path, "a keyed aggregate needs a key_by right before it (operators[" +
                                std::to_string(i - 1) + "] is a " + std::string(KindName(*prev)) +
                                ")");
        }
        FL_RETURN_IF_ISSUE(CatalogueFields(path, op));
        break;
      }
      case proto::Operator::kSink:
        if (!proto::Sink::Kind_IsValid(op.sink().kind())) {
          return Fail(At(At(path, "sink"), "kind"),
                      "unknown value " + std::to_string(op.sink().kind()));
        }
        info->sink_kind = op.sink().kind();
        break;
      default:
        break;
    }
    info->ops.push_back(resolved);
  }
  if (subtasks > kMaxSubtasks) {
    return Fail(ops_path, "the job has " + std::to_string(subtasks) + " subtasks, more than " +
                              std::to_string(kMaxSubtasks));
  }
  info->subtasks = static_cast<uint32_t>(subtasks);
  return std::nullopt;
}

// Builds the job graph of a scenario whose job section validated.
Result<engine::JobGraph> BuildGraph(const proto::Scenario& scenario, const JobInfo& info) {
  const proto::Job& job = scenario.job();
  engine::JobBuilder builder(info.name);
  engine::DataStream* stream = nullptr;
  for (int i = 0; i < job.operators_size(); ++i) {
    const proto::Operator& op = job.operators(i);
    if (static_cast<size_t>(i) >= info.ops.size() ||
        (stream == nullptr && op.kind_case() != proto::Operator::kSource)) {
      return InvalidArgumentError("job: the first operator must be the source");
    }
    const ResolvedOp& r = info.ops[static_cast<size_t>(i)];
    if (stream != nullptr && op.kind_case() != proto::Operator::kKeyBy) {
      if (op.input() == proto::Operator::REBALANCE) stream->Rebalance();
      if (op.input() == proto::Operator::BROADCAST) stream->Broadcast();
    }
    switch (op.kind_case()) {
      case proto::Operator::kSource: {
        const proto::Source& s = op.source();
        engine::SourceOptions options{.source_id = 0, .parallelism = r.parallelism};
        if (s.has_max_records_per_read()) options.max_records_per_read = s.max_records_per_read();
        stream = &builder.Source(r.name, options);
        break;
      }
      case proto::Operator::kMap:
      case proto::Operator::kFilter:
      case proto::Operator::kFlatMap:
      case proto::Operator::kKeyBy:
      case proto::Operator::kAggregate:
        AddCatalogueOperator(*stream, op, r.name, r.parallelism, r.max_parallelism);
        break;
      case proto::Operator::kSink: {
        engine::SinkKind kind = engine::SinkKind::kTwoPhaseCommit;
        if (op.sink().kind() == proto::Sink::AT_LEAST_ONCE) kind = engine::SinkKind::kAtLeastOnce;
        if (op.sink().kind() == proto::Sink::UPSERT) kind = engine::SinkKind::kUpsert;
        stream->Sink(r.name, {.kind = kind, .parallelism = r.parallelism});
        break;
      }
      case proto::Operator::KIND_NOT_SET:
        return InvalidArgumentError("job.operators[" + std::to_string(i) + "]: no kind");
    }
    if (op.kind_case() != proto::Operator::kKeyBy && r.record_cost > Duration::Zero()) {
      stream->WithRecordCost(r.record_cost);
    }
  }
  Result<engine::JobGraph> graph = builder.Build();
  if (!graph.ok()) return InvalidArgumentError("job: " + std::string(graph.status().message()));
  return graph;
}

}  // namespace faultline::scenarios::internal
