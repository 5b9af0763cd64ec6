#include "scenarios/loader.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "base/rng.h"
#include "base/text.h"
#include "faults/fault_plan.h"
#include "scenarios/fault_plan_proto.h"

namespace faultline::scenarios {
namespace {

namespace pb = ::google::protobuf;
constexpr size_t npos_ = std::string::npos;

// ---- limits ---------------------------------------------------------------------------------

constexpr size_t kMaxFileBytes = size_t{1} << 20;
constexpr Duration kMaxDuration = Duration::Seconds(24 * 3600);
constexpr uint32_t kMaxTaskManagers = 256;
constexpr uint32_t kMaxSubtasks = 4096;
constexpr uint32_t kMaxParallelism = 32768;  // Flink's bound on max parallelism
constexpr uint32_t kMaxPartitions = 1024;
constexpr uint64_t kMaxSourceRecords = 1'000'000;
constexpr uint32_t kMaxKeys = 1'000'000;
constexpr size_t kMaxNameBytes = 64;
constexpr uint32_t kMaxCredits = 1024;  // sim::NetworkOptions::credits_max
constexpr uint32_t kMinBufferBytes = 256;
constexpr uint32_t kMaxBufferBytes = 16u << 20;
constexpr uint32_t kMaxOutputQueue = 1024;
constexpr uint32_t kMaxConcurrent = 16;
constexpr uint32_t kMaxRetained = 100;
constexpr int64_t kMaxFanOut = 16;
constexpr int64_t kMaxValueModulus = 1'000'000;
constexpr uint32_t kMaxRecordsPerRead = 4096;

constexpr uint32_t kDefaultParallelism = 1;
constexpr uint32_t kDefaultTaskManagers = 3;
constexpr uint32_t kDefaultPartitions = 4;
constexpr uint32_t kDefaultRecordsPerPartition = 1000;
constexpr uint32_t kDefaultKeys = 100;
constexpr uint32_t kDefaultModulus = 13;
constexpr Duration kDefaultRunLimit = Duration::Seconds(60);

// ---- issues and field paths -----------------------------------------------------------------

struct PathPart {
  std::string field;
  int index = -1;  // the element of a repeated field; -1: the field itself
};
using Path = std::vector<PathPart>;

Path At(const Path& base, std::string field, int index = -1) {
  Path p = base;
  p.push_back(PathPart{std::move(field), index});
  return p;
}

std::string FormatPath(const Path& path) {
  std::string out;
  for (const PathPart& part : path) {
    if (!out.empty()) out += '.';
    out += part.field;
    if (part.index >= 0) out += "[" + std::to_string(part.index) + "]";
  }
  return out;
}

struct Issue {
  Path path;
  std::string message;
};
using Check = std::optional<Issue>;

Check Fail(const Path& path, std::string message) {
  return Issue{path, std::move(message)};
}

#define FL_RETURN_IF_ISSUE(expr)    \
  do {                              \
    if (Check fl_issue_ = (expr)) { \
      return fl_issue_;             \
    }                               \
  } while (false)

std::string Join(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

bool Contains(const std::vector<std::string_view>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

// ---- durations ------------------------------------------------------------------------------

enum class Sign { kPositive, kNonNegative, kNonZero };

// Reads a duration field: empty means `fallback`.
Check DurationField(const Path& path, const std::string& text, Duration fallback, Sign sign,
                    Duration* out) {
  if (text.empty()) {
    *out = fallback;
    return std::nullopt;
  }
  Result<Duration> d = ParseDuration(text);
  if (!d.ok()) return Fail(path, std::string(d.status().message()));
  switch (sign) {
    case Sign::kPositive:
      if (*d <= Duration::Zero()) return Fail(path, "must be positive, got " + Quote(text));
      break;
    case Sign::kNonNegative:
      if (*d < Duration::Zero()) return Fail(path, "must not be negative, got " + Quote(text));
      break;
    case Sign::kNonZero:
      if (*d == Duration::Zero()) return Fail(path, "must not be zero");
      break;
  }
  *out = *d;
  return std::nullopt;
}

// ---- catalogue ------------------------------------------------------------------------------

const std::vector<std::string_view> kMapFunctions = {"identity", "double", "negate", "add",
                                                     "multiply"};
const std::vector<std::string_view> kFilterPredicates = {"even-value", "odd-value",
                                                         "value-at-least", "value-below"};
const std::vector<std::string_view> kFlatMapFunctions = {"repeat", "fan-out-keys"};
const std::vector<std::string_view> kKeySelectors = {"key", "value-mod"};
const std::vector<std::string_view> kAggregates = {"running-sum", "running-sum-and-count", "count",
                                                   "max", "min"};

int64_t WrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
int64_t WrapMul(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
}

class RunningSumFn final : public engine::KeyedProcessFunction {
 public:
  explicit RunningSumFn(bool count) : count_(count) {}
  void Process(const engine::Record& in, engine::KeyedContext& state,
               engine::Collector& out) override {
    const int64_t sum = WrapAdd(state.GetValue("sum").value_or(0), in.value);
    state.SetValue("sum", sum);
    if (count_) state.AddToReducing("count", 1);
    out.Emit(engine::Record{in.key, sum, {}});
  }

 private:
  const bool count_;
};

class CountFn final : public engine::KeyedProcessFunction {
 public:
  void Process(const engine::Record& in, engine::KeyedContext& state,
               engine::Collector& out) override {
    const int64_t count = WrapAdd(state.GetValue("count").value_or(0), 1);
    state.SetValue("count", count);
    out.Emit(engine::Record{in.key, count, {}});
  }
};

class ExtremeFn final : public engine::KeyedProcessFunction {
 public:
  explicit ExtremeFn(bool max) : max_(max) {}
  void Process(const engine::Record& in, engine::KeyedContext& state,
               engine::Collector& out) override {
    const std::string_view name = max_ ? "max" : "min";
    const std::optional<int64_t> old = state.GetValue(name);
    int64_t v = in.value;
    if (old) v = max_ ? std::max(*old, v) : std::min(*old, v);
    state.SetValue(name, v);
    out.Emit(engine::Record{in.key, v, {}});
  }

 private:
  const bool max_;
};

// ---- the job --------------------------------------------------------------------------------

// What validation resolved about each operator, for the conversion.
struct ResolvedOp {
  std::string name;  // empty for key_by
  uint32_t parallelism = 1;
  uint32_t max_parallelism = 0;  // 0: the engine's default
  Duration record_cost;
};

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

// A catalogue function name and its argument.
Check FunctionField(const Path& op_path, std::string_view kind, std::string_view field,
                    const std::string& name, const std::vector<std::string_view>& known,
                    std::string_view default_name) {
  const Path path = At(At(op_path, std::string(kind)), std::string(field));
  if (name.empty() && default_name.empty()) {
    return Fail(path, "missing (known: " + Join(known) + ")");
  }
  if (!name.empty() && !Contains(known, name)) {
    return Fail(path, "unknown " + std::string(kind) + " " + std::string(field) + " " +
                          Quote(name) + " (known: " + Join(known) + ")");
  }
  return std::nullopt;
}

Check ArgField(const Path& op_path, std::string_view kind, std::string_view function, bool has,
               int64_t arg, bool needed, int64_t lo, int64_t hi) {
  const Path path = At(At(op_path, std::string(kind)), "arg");
  if (needed && !has) return Fail(path, "missing: " + std::string(function) + " needs an arg");
  if (!needed && has) {
    return Fail(path, std::string(function) + " takes no arg");
  }
  if (has && (arg < lo || arg > hi)) {
    return Fail(path, std::to_string(arg) + " is outside [" + std::to_string(lo) + ", " +
                          std::to_string(hi) + "]");
  }
  return std::nullopt;
}

Check ValidateSource(const Path& op_path, const proto::Source& s, uint32_t parallelism) {
  const Path path = At(op_path, "source");
  if (s.has_partitions() && (s.partitions() == 0 || s.partitions() > kMaxPartitions)) {
    return Fail(At(path, "partitions"), std::to_string(s.partitions()) + " is outside [1, " +
                                            std::to_string(kMaxPartitions) + "]");
  }
  const uint32_t partitions = s.has_partitions() ? s.partitions() : kDefaultPartitions;
  const uint64_t per =
      s.has_records_per_partition() ? s.records_per_partition() : kDefaultRecordsPerPartition;
  if (uint64_t{partitions} * per > kMaxSourceRecords) {
    return Fail(At(path, "records_per_partition"),
                std::to_string(partitions) + " partitions x " + std::to_string(per) +
                    " records is more than " + std::to_string(kMaxSourceRecords) + " records");
  }
  if (s.has_keys() && (s.keys() == 0 || s.keys() > kMaxKeys)) {
    return Fail(At(path, "keys"),
                std::to_string(s.keys()) + " is outside [1, " + std::to_string(kMaxKeys) + "]");
  }
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
    return Fail(At(path, "max_records_per_read"), std::to_string(s.max_records_per_read()) +
                                                      " is outside [1, " +
                                                      std::to_string(kMaxRecordsPerRead) + "]");
  }
  if (parallelism > partitions) {
    return Fail(At(op_path, "parallelism"),
                std::to_string(parallelism) + " is above the source's " +
                    std::to_string(partitions) + " partitions (subtasks would read nothing)");
  }
  return std::nullopt;
}

struct JobInfo {
  std::vector<ResolvedOp> ops;
  uint32_t subtasks = 0;
  uint32_t highest_parallelism = 0;
  uint32_t partitions = kDefaultPartitions;
  proto::Sink::Kind sink_kind = proto::Sink::TWO_PHASE_COMMIT;
  std::string name;
};

Check ValidateJob(const proto::Scenario& scenario, JobInfo* info) {
  const Path job_path{{"job", -1}};
  const proto::Job& job = scenario.job();
  if (!scenario.has_job()) return Fail(job_path, "missing: a scenario needs a job");
  info->name = job.name().empty() ? scenario.name() : job.name();
  if (!job.name().empty() && !ValidName(job.name())) {
    return Fail(At(job_path, "name"),
                Quote(job.name()) + " is not a name (1 to 64 of A-Z a-z 0-9 _ - .)");
  }
  if (job.has_parallelism() && (job.parallelism() == 0 || job.parallelism() > kMaxParallelism)) {
    return Fail(At(job_path, "parallelism"), std::to_string(job.parallelism()) +
                                                 " is outside [1, " +
                                                 std::to_string(kMaxParallelism) + "]");
  }
  if (job.has_max_parallelism() &&
      (job.max_parallelism() == 0 || job.max_parallelism() > kMaxParallelism)) {
    return Fail(At(job_path, "max_parallelism"), std::to_string(job.max_parallelism()) +
                                                     " is outside [1, " +
                                                     std::to_string(kMaxParallelism) + "]");
  }
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
      const proto::KeyBy& k = op.key_by();
      FL_RETURN_IF_ISSUE(
          FunctionField(path, "key_by", "selector", k.selector(), kKeySelectors, "key"));
      const bool value_mod = k.selector() == "value-mod";
      FL_RETURN_IF_ISSUE(ArgField(path, "key_by", value_mod ? "value-mod" : "key", k.has_arg(),
                                  k.arg(), value_mod, 1, kMaxValueModulus));
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
    if (op.has_parallelism() && (op.parallelism() == 0 || op.parallelism() > kMaxParallelism)) {
      return Fail(At(path, "parallelism"), std::to_string(op.parallelism()) + " is outside [1, " +
                                               std::to_string(kMaxParallelism) + "]");
    }
    resolved.parallelism = op.has_parallelism() ? op.parallelism() : default_parallelism;
    const bool keyed = kind == proto::Operator::kAggregate;
    if (op.has_max_parallelism()) {
      if (!keyed) {
        return Fail(At(path, "max_parallelism"),
                    "only keyed aggregates have a max parallelism (this is a " +
                        std::string(KindName(op)) + ")");
      }
      if (op.max_parallelism() == 0 || op.max_parallelism() > kMaxParallelism) {
        return Fail(At(path, "max_parallelism"), std::to_string(op.max_parallelism()) +
                                                     " is outside [1, " +
                                                     std::to_string(kMaxParallelism) + "]");
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
      case proto::Operator::kMap: {
        const proto::Map& m = op.map();
        FL_RETURN_IF_ISSUE(FunctionField(path, "map", "function", m.function(), kMapFunctions, ""));
        const bool needs = m.function() == "add" || m.function() == "multiply";
        FL_RETURN_IF_ISSUE(ArgField(path, "map", m.function(), m.has_arg(), m.arg(), needs,
                                    std::numeric_limits<int64_t>::min(),
                                    std::numeric_limits<int64_t>::max()));
        break;
      }
      case proto::Operator::kFilter: {
        const proto::Filter& f = op.filter();
        FL_RETURN_IF_ISSUE(
            FunctionField(path, "filter", "predicate", f.predicate(), kFilterPredicates, ""));
        const bool needs = f.predicate() == "value-at-least" || f.predicate() == "value-below";
        FL_RETURN_IF_ISSUE(ArgField(path, "filter", f.predicate(), f.has_arg(), f.arg(), needs,
                                    std::numeric_limits<int64_t>::min(),
                                    std::numeric_limits<int64_t>::max()));
        break;
      }
      case proto::Operator::kFlatMap: {
        const proto::FlatMap& f = op.flat_map();
        FL_RETURN_IF_ISSUE(
            FunctionField(path, "flat_map", "function", f.function(), kFlatMapFunctions, ""));
        FL_RETURN_IF_ISSUE(
            ArgField(path, "flat_map", f.function(), f.has_arg(), f.arg(), true, 1, kMaxFanOut));
        break;
      }
      case proto::Operator::kAggregate: {
        if (!after_key_by) {
          return Fail(path, "a keyed aggregate needs a key_by right before it (operators[" +
                                std::to_string(i - 1) + "] is a " + std::string(KindName(*prev)) +
                                ")");
        }
        FL_RETURN_IF_ISSUE(FunctionField(path, "aggregate", "function", op.aggregate().function(),
                                         kAggregates, ""));
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
      case proto::Operator::kMap: {
        const std::string& fn = op.map().function();
        const int64_t arg = op.map().arg();
        engine::MapFn map;
        if (fn == "identity") {
          map = [](const engine::Record& in) { return engine::Record{in.key, in.value, {}}; };
        } else if (fn == "double") {
          map = [](const engine::Record& in) {
            return engine::Record{in.key, WrapMul(in.value, 2), {}};
          };
        } else if (fn == "negate") {
          map = [](const engine::Record& in) {
            return engine::Record{in.key, WrapMul(in.value, -1), {}};
          };
        } else if (fn == "add") {
          map = [arg](const engine::Record& in) {
            return engine::Record{in.key, WrapAdd(in.value, arg), {}};
          };
        } else {
          map = [arg](const engine::Record& in) {
            return engine::Record{in.key, WrapMul(in.value, arg), {}};
          };
        }
        stream->Map(r.name, std::move(map), r.parallelism);
        break;
      }
      case proto::Operator::kFilter: {
        const std::string& p = op.filter().predicate();
        const int64_t arg = op.filter().arg();
        engine::FilterFn filter;
        if (p == "even-value") {
          filter = [](const engine::Record& in) { return in.value % 2 == 0; };
        } else if (p == "odd-value") {
          filter = [](const engine::Record& in) { return in.value % 2 != 0; };
        } else if (p == "value-at-least") {
          filter = [arg](const engine::Record& in) { return in.value >= arg; };
        } else {
          filter = [arg](const engine::Record& in) { return in.value < arg; };
        }
        stream->Filter(r.name, std::move(filter), r.parallelism);
        break;
      }
      case proto::Operator::kFlatMap: {
        const bool fan_out = op.flat_map().function() == "fan-out-keys";
        const int64_t copies = op.flat_map().arg();
        stream->FlatMap(
            r.name,
            [fan_out, copies](const engine::Record& in, engine::Collector& out) {
              for (int64_t c = 0; c < copies; ++c) {
                out.Emit(engine::Record{
                    fan_out ? in.key + "/" + std::to_string(c) : in.key, in.value, {}});
              }
            },
            r.parallelism);
        break;
      }
      case proto::Operator::kKeyBy: {
        if (op.key_by().selector() == "value-mod") {
          const int64_t m = op.key_by().arg();
          stream->KeyBy([m](const engine::Record& in) {
            return "v" + std::to_string(((in.value % m) + m) % m);
          });
        } else {
          stream->KeyBy([](const engine::Record& in) { return in.key; });
        }
        break;
      }
      case proto::Operator::kAggregate: {
        const std::string& fn = op.aggregate().function();
        std::shared_ptr<engine::KeyedProcessFunction> f;
        if (fn == "running-sum") {
          f = std::make_shared<RunningSumFn>(false);
        } else if (fn == "running-sum-and-count") {
          f = std::make_shared<RunningSumFn>(true);
        } else if (fn == "count") {
          f = std::make_shared<CountFn>();
        } else {
          f = std::make_shared<ExtremeFn>(fn == "max");
        }
        stream->Process(r.name, std::move(f), r.parallelism, r.max_parallelism);
        break;
      }
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

// ---- world ----------------------------------------------------------------------------------

struct ServiceDefaults {
  Duration latency;
  Duration jitter;
  int64_t bandwidth;
};

Check ValidateService(const Path& path, const proto::ServiceLatency& s, ServiceDefaults d,
                      sim::ServiceLatency* out) {
  FL_RETURN_IF_ISSUE(DurationField(At(path, "latency"), s.latency(), d.latency, Sign::kNonNegative,
                                   &out->latency_min));
  FL_RETURN_IF_ISSUE(DurationField(At(path, "latency_jitter_mean"), s.latency_jitter_mean(),
                                   d.jitter, Sign::kNonNegative, &out->latency_exponential_mean));
  out->bandwidth_bytes_per_second = d.bandwidth;
  if (s.has_bandwidth_bytes_per_second()) {
    if (s.bandwidth_bytes_per_second() < 0) {
      return Fail(At(path, "bandwidth_bytes_per_second"), "must not be negative");
    }
    out->bandwidth_bytes_per_second = s.bandwidth_bytes_per_second();
  }
  return std::nullopt;
}

// Everything the conversions need, gathered by one validation pass.
struct Resolved {
  Duration run_limit = kDefaultRunLimit;
  JobInfo job;
  engine::JobGraph graph;
  engine::ExecutionPlan plan;
  engine::EngineConfig config;
  sim::JobWorldOptions world;
  bool uses_rocksdb = false;
  bool uses_incremental = false;
};

Check ValidateCluster(const proto::Scenario& s, Resolved* r) {
  const Path path{{"cluster", -1}};
  const proto::Cluster& c = s.cluster();
  if (c.has_task_managers() && (c.task_managers() == 0 || c.task_managers() > kMaxTaskManagers)) {
    return Fail(At(path, "task_managers"), std::to_string(c.task_managers()) + " is outside [1, " +
                                               std::to_string(kMaxTaskManagers) + "]");
  }
  r->world.task_managers = c.has_task_managers() ? c.task_managers() : kDefaultTaskManagers;
  if (c.slots_per_task_manager() != 0) {
    const uint64_t slots = uint64_t{r->world.task_managers} * c.slots_per_task_manager();
    if (slots < r->job.highest_parallelism) {
      return Fail(At(path, "slots_per_task_manager"),
                  std::to_string(r->world.task_managers) + " task managers x " +
                      std::to_string(c.slots_per_task_manager()) + " slots = " +
                      std::to_string(slots) + " slots, fewer than the job's highest parallelism " +
                      std::to_string(r->job.highest_parallelism));
    }
  }
  engine::EngineConfig& e = r->config;
  FL_RETURN_IF_ISSUE(DurationField(At(path, "heartbeat_interval"), c.heartbeat_interval(),
                                   e.heartbeat_interval, Sign::kPositive, &e.heartbeat_interval));
  FL_RETURN_IF_ISSUE(DurationField(At(path, "heartbeat_timeout"), c.heartbeat_timeout(),
                                   e.heartbeat_timeout, Sign::kPositive, &e.heartbeat_timeout));
  if (e.heartbeat_timeout <= e.heartbeat_interval) {
    return Fail(
        At(path, c.heartbeat_timeout().empty() ? "heartbeat_interval" : "heartbeat_timeout"),
        "the heartbeat timeout " + e.heartbeat_timeout.ToString() +
            " must be longer than the heartbeat interval " + e.heartbeat_interval.ToString());
  }
  FL_RETURN_IF_ISSUE(DurationField(At(path, "connect_retry"), c.connect_retry(), e.connect_retry,
                                   Sign::kPositive, &e.connect_retry));
  return std::nullopt;
}

Check ValidateNetwork(const proto::Scenario& s, Resolved* r) {
  const Path path{{"network", -1}};
  const proto::Network& n = s.network();
  sim::LinkOptions& link = r->world.world.network.default_link;
  FL_RETURN_IF_ISSUE(DurationField(At(path, "latency"), n.latency(), link.latency_min,
                                   Sign::kNonNegative, &link.latency_min));
  FL_RETURN_IF_ISSUE(DurationField(At(path, "latency_jitter_mean"), n.latency_jitter_mean(),
                                   link.latency_exponential_mean, Sign::kNonNegative,
                                   &link.latency_exponential_mean));
  if (n.has_bandwidth_bytes_per_second()) {
    if (n.bandwidth_bytes_per_second() < 0) {
      return Fail(At(path, "bandwidth_bytes_per_second"), "must not be negative");
    }
    link.bandwidth_bytes_per_second = n.bandwidth_bytes_per_second();
  }
  engine::EngineConfig& e = r->config;
  if (n.has_channel_credits()) {
    if (n.channel_credits() == 0 || n.channel_credits() > kMaxCredits) {
      return Fail(At(path, "channel_credits"), std::to_string(n.channel_credits()) +
                                                   " is outside [1, " +
                                                   std::to_string(kMaxCredits) + "]");
    }
    e.channel_credits = n.channel_credits();
  }
  if (n.has_buffer_bytes()) {
    if (n.buffer_bytes() < kMinBufferBytes || n.buffer_bytes() > kMaxBufferBytes) {
      return Fail(At(path, "buffer_bytes"), std::to_string(n.buffer_bytes()) + " is outside [" +
                                                std::to_string(kMinBufferBytes) + ", " +
                                                std::to_string(kMaxBufferBytes) + "]");
    }
    e.buffer_bytes_max = n.buffer_bytes();
  }
  FL_RETURN_IF_ISSUE(DurationField(At(path, "buffer_timeout"), n.buffer_timeout(), e.buffer_timeout,
                                   Sign::kNonNegative, &e.buffer_timeout));
  if (n.has_output_queue()) {
    if (n.output_queue() == 0 || n.output_queue() > kMaxOutputQueue) {
      return Fail(At(path, "output_queue"), std::to_string(n.output_queue()) + " is outside [1, " +
                                                std::to_string(kMaxOutputQueue) + "]");
    }
    e.output_queue_max = n.output_queue();
  }
  return std::nullopt;
}

Check ValidateStorage(const proto::Scenario& s, Resolved* r) {
  const Path path{{"storage", -1}};
  const proto::Storage& st = s.storage();
  sim::WorldOptions& w = r->world.world;
  const sim::WorldOptions defaults;
  FL_RETURN_IF_ISSUE(ValidateService(
      At(path, "blob_store"), st.blob_store(),
      {defaults.blob_store.latency_min, defaults.blob_store.latency_exponential_mean,
       defaults.blob_store.bandwidth_bytes_per_second},
      &w.blob_store));
  FL_RETURN_IF_ISSUE(
      ValidateService(At(path, "ha_store"), st.ha_store(),
                      {defaults.ha_store.latency_min, defaults.ha_store.latency_exponential_mean,
                       defaults.ha_store.bandwidth_bytes_per_second},
                      &w.ha_store));
  FL_RETURN_IF_ISSUE(ValidateService(
      At(path, "source_log"), st.source_log(),
      {defaults.source_log.latency_min, defaults.source_log.latency_exponential_mean,
       defaults.source_log.bandwidth_bytes_per_second},
      &w.source_log));
  FL_RETURN_IF_ISSUE(ValidateService(
      At(path, "output_store"), st.output_store(),
      {defaults.output_store.latency_min, defaults.output_store.latency_exponential_mean,
       defaults.output_store.bandwidth_bytes_per_second},
      &w.output_store));
  if (st.has_disk_capacity_bytes()) {
    if (st.disk_capacity_bytes() == 0) {
      return Fail(At(path, "disk_capacity_bytes"),
                  "must be positive (use a disk_full fault for a full disk)");
    }
    w.disk_capacity_bytes = st.disk_capacity_bytes();
  }
  if (!st.disk_latency().empty()) {
    return Fail(At(path, "disk_latency"),
                "the simulated local disks have no latency model in this build");
  }
  if (st.has_disk_bandwidth_bytes_per_second()) {
    return Fail(At(path, "disk_bandwidth_bytes_per_second"),
                "the simulated local disks have no bandwidth model in this build");
  }
  return std::nullopt;
}

Check ValidateCheckpointing(const proto::Scenario& s, Resolved* r) {
  const Path path{{"checkpointing", -1}};
  const proto::Checkpointing& c = s.checkpointing();
  engine::CheckpointConfig& cc = r->config.checkpoints;
  if (!proto::Checkpointing::Mode_IsValid(c.mode())) {
    return Fail(At(path, "mode"), "unknown value " + std::to_string(c.mode()));
  }
  if (c.unaligned() && c.mode() == proto::Checkpointing::AT_LEAST_ONCE) {
    return Fail(At(path, "unaligned"),
                "unaligned checkpoints contradict mode AT_LEAST_ONCE (unaligned checkpoints are "
                "exactly-once)");
  }
  switch (c.mode()) {
    case proto::Checkpointing::ALIGNED:
      cc.mode =
          c.unaligned() ? engine::CheckpointMode::kUnaligned : engine::CheckpointMode::kAligned;
      break;
    case proto::Checkpointing::UNALIGNED:
      cc.mode = engine::CheckpointMode::kUnaligned;
      break;
    default:
      cc.mode = engine::CheckpointMode::kAtLeastOnce;
      break;
  }
  cc.enabled = !c.has_enabled() || c.enabled();
  FL_RETURN_IF_ISSUE(DurationField(At(path, "interval"), c.interval(), cc.interval, Sign::kPositive,
                                   &cc.interval));
  FL_RETURN_IF_ISSUE(
      DurationField(At(path, "timeout"), c.timeout(), cc.timeout, Sign::kPositive, &cc.timeout));
  FL_RETURN_IF_ISSUE(DurationField(At(path, "min_pause"), c.min_pause(), cc.min_pause,
                                   Sign::kNonNegative, &cc.min_pause));
  if (c.has_max_concurrent()) {
    if (c.max_concurrent() == 0 || c.max_concurrent() > kMaxConcurrent) {
      return Fail(At(path, "max_concurrent"), std::to_string(c.max_concurrent()) +
                                                  " is outside [1, " +
                                                  std::to_string(kMaxConcurrent) + "]");
    }
    cc.max_concurrent = c.max_concurrent();
  }
  if (cc.mode == engine::CheckpointMode::kUnaligned && cc.max_concurrent > 1) {
    return Fail(At(path, "max_concurrent"),
                std::to_string(cc.max_concurrent) +
                    " contradicts unaligned checkpoints, which allow 1 at a time");
  }
  cc.tolerable_failures = c.tolerable_failures();
  if (c.has_retained()) {
    if (c.retained() == 0 || c.retained() > kMaxRetained) {
      return Fail(At(path, "retained"), std::to_string(c.retained()) + " is outside [1, " +
                                            std::to_string(kMaxRetained) + "]");
    }
    cc.retained = c.retained();
  }
  if (!proto::Checkpointing::Backend_IsValid(c.backend())) {
    return Fail(At(path, "backend"), "unknown value " + std::to_string(c.backend()));
  }
  r->uses_rocksdb = c.backend() == proto::Checkpointing::ROCKSDB;
  if (c.incremental() && c.backend() == proto::Checkpointing::HEAP) {
    return Fail(At(path, "incremental"),
                "incremental checkpoints need backend ROCKSDB (the heap backend takes full "
                "snapshots)");
  }
  r->uses_incremental = c.incremental();
  if (!c.aligned_checkpoint_timeout().empty()) {
    Duration timeout;
    FL_RETURN_IF_ISSUE(DurationField(At(path, "aligned_checkpoint_timeout"),
                                     c.aligned_checkpoint_timeout(), Duration::Zero(),
                                     Sign::kPositive, &timeout));
    if (cc.mode != engine::CheckpointMode::kUnaligned) {
      // Flink's semantics: a checkpoint starts aligned and switches to unaligned after the
      // timeout, so unaligned checkpoints must be on.
      return Fail(At(path, "aligned_checkpoint_timeout"),
                  std::string("switches aligned checkpoints to unaligned, and needs mode "
                              "UNALIGNED (the mode is ") +
                      (cc.mode == engine::CheckpointMode::kAligned ? "ALIGNED" : "AT_LEAST_ONCE") +
                      ")");
    }
    cc.aligned_timeout = timeout;
  }
  if (!proto::Checkpointing::UnreadablePolicy_IsValid(c.on_unreadable())) {
    return Fail(At(path, "on_unreadable"), "unknown value " + std::to_string(c.on_unreadable()));
  }
  r->config.unreadable_checkpoint = c.on_unreadable() == proto::Checkpointing::FALLBACK
                                        ? engine::UnreadableCheckpointPolicy::kFallback
                                        : engine::UnreadableCheckpointPolicy::kFail;
  return std::nullopt;
}

Check ValidateRestart(const proto::Scenario& s, Resolved* r) {
  const Path path{{"restart", -1}};
  const proto::RestartStrategy& rs = s.restart();
  engine::RestartStrategy& out = r->config.restart;
  switch (rs.strategy_case()) {
    case proto::RestartStrategy::STRATEGY_NOT_SET:
      break;
    case proto::RestartStrategy::kFixedDelay: {
      const Path p = At(path, "fixed_delay");
      out.kind = engine::RestartStrategy::Kind::kFixedDelay;
      FL_RETURN_IF_ISSUE(DurationField(At(p, "delay"), rs.fixed_delay().delay(), out.delay,
                                       Sign::kNonNegative, &out.delay));
      if (rs.fixed_delay().has_max_attempts()) out.max_attempts = rs.fixed_delay().max_attempts();
      break;
    }
    case proto::RestartStrategy::kExponentialDelay: {
      const Path p = At(path, "exponential_delay");
      const proto::ExponentialDelay& e = rs.exponential_delay();
      out.kind = engine::RestartStrategy::Kind::kExponentialDelay;
      FL_RETURN_IF_ISSUE(DurationField(At(p, "initial_backoff"), e.initial_backoff(),
                                       out.initial_backoff, Sign::kPositive, &out.initial_backoff));
      FL_RETURN_IF_ISSUE(DurationField(At(p, "max_backoff"), e.max_backoff(), out.max_backoff,
                                       Sign::kPositive, &out.max_backoff));
      if (out.max_backoff < out.initial_backoff) {
        return Fail(At(p, "max_backoff"), out.max_backoff.ToString() +
                                              " is below initial_backoff " +
                                              out.initial_backoff.ToString());
      }
      if (e.has_multiplier_percent()) {
        if (e.multiplier_percent() < 100 || e.multiplier_percent() > 10000) {
          return Fail(At(p, "multiplier_percent"),
                      std::to_string(e.multiplier_percent()) + " is outside [100, 10000]");
        }
        out.multiplier_percent = e.multiplier_percent();
      }
      FL_RETURN_IF_ISSUE(DurationField(At(p, "reset_threshold"), e.reset_threshold(),
                                       out.reset_threshold, Sign::kPositive, &out.reset_threshold));
      break;
    }
    case proto::RestartStrategy::kFailureRate: {
      const Path p = At(path, "failure_rate");
      const proto::FailureRate& f = rs.failure_rate();
      out.kind = engine::RestartStrategy::Kind::kFailureRate;
      FL_RETURN_IF_ISSUE(
          DurationField(At(p, "delay"), f.delay(), out.delay, Sign::kNonNegative, &out.delay));
      if (f.has_max_failures()) out.max_failures = f.max_failures();
      FL_RETURN_IF_ISSUE(DurationField(At(p, "failure_interval"), f.failure_interval(),
                                       out.failure_interval, Sign::kPositive,
                                       &out.failure_interval));
      break;
    }
    case proto::RestartStrategy::kNone:
      out.kind = engine::RestartStrategy::Kind::kNone;
      break;
  }
  return std::nullopt;
}

bool ExactlyOnce(const Resolved& r) {
  return r.config.checkpoints.mode != engine::CheckpointMode::kAtLeastOnce;
}

Check ValidateSwitches(const proto::Scenario& s, Resolved* r) {
  std::vector<std::string_view> known;
  for (const engine::TeachingSwitchInfo& info : engine::kTeachingSwitches) {
    known.push_back(info.name);
  }
  std::set<std::string> seen;
  for (int i = 0; i < s.teaching_switches_size(); ++i) {
    const std::string& name = s.teaching_switches(i);
    const Path path{{"teaching_switches", i}};
    const engine::TeachingSwitchInfo* found = nullptr;
    for (const engine::TeachingSwitchInfo& info : engine::kTeachingSwitches) {
      if (info.name == name) found = &info;
    }
    if (found == nullptr) {
      return Fail(path, "unknown teaching switch " + Quote(name) + " (known: " + Join(known) + ")");
    }
    if (!seen.insert(name).second) return Fail(path, Quote(name) + " is listed twice");
    const engine::CheckpointMode mode = r->config.checkpoints.mode;
    if (name == "no-alignment" && mode != engine::CheckpointMode::kAligned) {
      return Fail(path, "no-alignment plants its mistake in aligned mode only");
    }
    if (name == "drop-channel-state" && mode != engine::CheckpointMode::kUnaligned) {
      return Fail(path, "drop-channel-state plants its mistake in unaligned mode only");
    }
    if ((name == "commit-on-snapshot" || name == "drop-subsumed-commit" ||
         name == "recommit-after-restore") &&
        r->job.sink_kind != proto::Sink::TWO_PHASE_COMMIT) {
      return Fail(path, name +
                            " plants its mistake in a two-phase-commit sink, and the job's "
                            "sink is not one");
    }
    r->config.switches.*(found->field) = true;
  }
  return std::nullopt;
}

Check ValidateCheckers(const proto::Scenario& s, const Resolved& r) {
  std::vector<std::string_view> known = KnownCheckers();
  std::set<std::string> seen;
  for (int i = 0; i < s.checkers_size(); ++i) {
    const std::string& name = s.checkers(i);
    const Path path{{"checkers", i}};
    if (!Contains(known, name)) {
      return Fail(path, "unknown checker " + Quote(name) + " (known: " + Join(known) + ")");
    }
    if (!seen.insert(name).second) return Fail(path, Quote(name) + " is listed twice");
    if ((name == "EO-OUT" || name == "EO-CUT") && !ExactlyOnce(r)) {
      return Fail(path, name +
                            " judges exactly-once runs, and checkpointing.mode is "
                            "AT_LEAST_ONCE (use AL-LOSS)");
    }
    if (name == "TXN" && r.job.sink_kind != proto::Sink::TWO_PHASE_COMMIT) {
      return Fail(path, "TXN judges two-phase-commit sinks, and the job's sink is not one");
    }
  }
  const proto::Expectation& e = s.expect();
  const Path path{{"expect", -1}};
  if (!proto::Expectation::Verdict_IsValid(e.verdict())) {
    return Fail(At(path, "verdict"), "unknown value " + std::to_string(e.verdict()));
  }
  if (e.verdict() == proto::Expectation::VIOLATION) {
    if (e.checker().empty()) {
      return Fail(At(path, "checker"), "missing: a VIOLATION names the checker that reports it");
    }
    if (!Contains(known, e.checker())) {
      return Fail(At(path, "checker"),
                  "unknown checker " + Quote(e.checker()) + " (known: " + Join(known) + ")");
    }
    const std::vector<std::string> enabled = EnabledCheckers(s);
    if (std::find(enabled.begin(), enabled.end(), e.checker()) == enabled.end()) {
      std::string list;
      for (const std::string& c : enabled) list += (list.empty() ? "" : ", ") + c;
      return Fail(At(path, "checker"), e.checker() + " is not enabled (enabled: " + list + ")");
    }
  } else if (!e.checker().empty()) {
    return Fail(At(path, "checker"), "only a VIOLATION names a checker");
  }
  return std::nullopt;
}

// ---- faults ---------------------------------------------------------------------------------

// "faults[0].partition.side_b[1]" -> {faults, 0}, {partition}, {side_b, 1}.
Path ParsePath(const std::string& text) {
  Path path;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('.', start);
    if (end == npos_) end = text.size();
    std::string part = text.substr(start, end - start);
    int index = -1;
    const size_t open = part.find('[');
    if (open != npos_ && part.back() == ']') {
      index = std::stoi(part.substr(open + 1, part.size() - open - 2));
      part.resize(open);
    }
    path.push_back(PathPart{std::move(part), index});
    start = end + 1;
  }
  return path;
}

Check FromPlanIssue(const std::optional<faults::PlanIssue>& issue) {
  if (!issue) return std::nullopt;
  return Fail(ParsePath(issue->path), issue->message);
}

// The fault plan, converted (scenarios/fault_plan_proto.h) and validated (faults::CheckEntry,
// CheckNemesis) entry by entry.
Check ValidateFaults(const proto::Scenario& s, const Resolved& r) {
  faults::FaultTargets targets =
      faults::FaultTargets::OfPlan(r.graph, r.plan, r.world.task_managers);
  targets.run_limit = r.run_limit;
  for (int i = 0; i < s.faults_size(); ++i) {
    faults::PlanEntry entry;
    FL_RETURN_IF_ISSUE(FromPlanIssue(EntryFromProto(s.faults(i), i, &entry)));
    FL_RETURN_IF_ISSUE(FromPlanIssue(faults::CheckEntry(entry, static_cast<size_t>(i), targets)));
  }
  if (!s.has_nemesis()) return std::nullopt;
  faults::NemesisOptions nemesis;
  FL_RETURN_IF_ISSUE(FromPlanIssue(NemesisFromProto(s.nemesis(), &nemesis)));
  return FromPlanIssue(faults::CheckNemesis(nemesis, targets));
}

// The whole validation, keeping what it resolved.
Check ValidateAll(const proto::Scenario& s, Resolved* r) {
  if (s.name().empty()) return Fail({{"name", -1}}, "missing: a scenario needs a name");
  if (!ValidName(s.name())) {
    return Fail({{"name", -1}}, Quote(s.name()) + " is not a name (1 to 64 of A-Z a-z 0-9 _ - .)");
  }
  FL_RETURN_IF_ISSUE(DurationField({{"run_limit", -1}}, s.run_limit(), kDefaultRunLimit,
                                   Sign::kPositive, &r->run_limit));
  r->world.world.seed = s.has_seed() ? s.seed() : 1;
  FL_RETURN_IF_ISSUE(ValidateJob(s, &r->job));
  r->world.source_partitions = r->job.partitions;
  FL_RETURN_IF_ISSUE(ValidateCluster(s, r));
  FL_RETURN_IF_ISSUE(ValidateNetwork(s, r));
  FL_RETURN_IF_ISSUE(ValidateStorage(s, r));
  FL_RETURN_IF_ISSUE(ValidateCheckpointing(s, r));
  FL_RETURN_IF_ISSUE(ValidateRestart(s, r));
  FL_RETURN_IF_ISSUE(ValidateSwitches(s, r));
  FL_RETURN_IF_ISSUE(ValidateCheckers(s, *r));

  Result<engine::JobGraph> graph = BuildGraph(s, r->job);
  if (!graph.ok()) return Fail({{"job", -1}}, std::string(graph.status().message()));
  r->graph = std::move(graph).value();
  std::vector<runtime::NodeId> tms;
  for (uint32_t i = 1; i <= r->world.task_managers; ++i) tms.push_back(i);
  Result<engine::ExecutionPlan> plan = engine::BuildExecutionPlan(r->graph, tms);
  if (!plan.ok()) return Fail({{"job", -1}}, std::string(plan.status().message()));
  r->plan = std::move(plan).value();

  FL_RETURN_IF_ISSUE(ValidateFaults(s, *r));
  return std::nullopt;
}

Result<Resolved> Resolve(const proto::Scenario& s) {
  Resolved r;
  if (Check issue = ValidateAll(s, &r)) {
    return InvalidArgumentError(FormatPath(issue->path) + ": " + issue->message);
  }
  return r;
}

// ---- text parsing ---------------------------------------------------------------------------

class FirstErrorCollector final : public pb::io::ErrorCollector {
 public:
  void AddError(int line, pb::io::ColumnNumber column, const std::string& message) override {
    if (found_) return;
    found_ = true;
    line_ = line;
    column_ = column;
    message_ = message;
  }
  void AddWarning(int, pb::io::ColumnNumber, const std::string&) override {}

  bool found() const { return found_; }
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& message() const { return message_; }

 private:
  bool found_ = false;
  int line_ = 0;
  int column_ = 0;
  std::string message_;
};

std::string Location(std::string_view filename, int line, int column) {
  return std::string(filename) + ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1);
}

// ---- syntax errors --------------------------------------------------------------------------

// A position as protobuf's tokenizer counts it: 0-based line and column, a tab advancing the
// column to the next multiple of 8.
struct Position {
  int line = 0;
  int column = 0;
};

Position PositionOf(std::string_view text, size_t offset) {
  Position p;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 0;
    } else if (text[i] == '\t') {
      p.column += 8 - p.column % 8;
    } else {
      ++p.column;
    }
  }
  return p;
}

size_t OffsetOf(std::string_view text, Position at) {
  Position p;
  size_t i = 0;
  for (; i < text.size(); ++i) {
    if (p.line > at.line || (p.line == at.line && p.column >= at.column)) break;
    if (text[i] == '\n') {
      if (p.line == at.line) break;
      ++p.line;
      p.column = 0;
    } else if (text[i] == '\t') {
      p.column += 8 - p.column % 8;
    } else {
      ++p.column;
    }
  }
  return i;
}

std::string OneBased(Position p) {
  return std::to_string(p.line + 1) + ":" + std::to_string(p.column + 1);
}

// The text between the first pair of double quotes after `after` in a protobuf message.
std::optional<std::string> QuotedAfter(const std::string& message, std::string_view after) {
  const size_t at = message.find(after);
  if (at == std::string::npos) return std::nullopt;
  const size_t open = message.find('"', at + after.size());
  if (open == std::string::npos) return std::nullopt;
  const size_t close = message.find('"', open + 1);
  if (close == std::string::npos) return std::nullopt;
  return message.substr(open + 1, close - open - 1);
}

// Protobuf reports an unknown field or enum value at the token after it: move back to it.
void MoveBackTo(std::string_view text, std::string_view token, Position* at) {
  if (token.empty()) return;
  const size_t offset = OffsetOf(text, *at);
  const size_t found = text.substr(0, std::min(text.size(), offset + token.size())).rfind(token);
  if (found != std::string_view::npos) *at = PositionOf(text, found);
}

// The innermost block still open at the end of the text: where its brace is, and its name.
std::optional<std::pair<Position, std::string>> UnclosedBlock(std::string_view text) {
  std::vector<size_t> open;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '"' || c == '\'') {
      for (++i; i < text.size() && text[i] != c && text[i] != '\n'; ++i) {
        if (text[i] == '\\') ++i;
      }
    } else if (c == '{' || c == '<') {
      open.push_back(i);
    } else if ((c == '}' || c == '>') && !open.empty()) {
      open.pop_back();
    }
  }
  if (open.empty()) return std::nullopt;
  const size_t brace = open.back();
  size_t end = brace;
  while (end > 0 && (text[end - 1] == ' ' || text[end - 1] == '\t' || text[end - 1] == ':')) --end;
  size_t begin = end;
  while (begin > 0 && (std::isalnum(static_cast<unsigned char>(text[begin - 1])) != 0 ||
                       text[begin - 1] == '_')) {
    --begin;
  }
  std::string name(text.substr(begin, end - begin));
  return std::make_pair(PositionOf(text, begin == end ? brace : begin), std::move(name));
}

// The descriptor of a message of the schema by its full name.
const pb::Descriptor* SchemaMessage(const std::string& full_name) {
  return proto::Scenario::descriptor()->file()->pool()->FindMessageTypeByName(full_name);
}

// Rewrites protobuf's message as "what was expected", at the position of the offending token.
std::string ExplainSyntaxError(std::string_view text, std::string message, Position* at) {
  if (auto value = QuotedAfter(message, "Unknown enumeration value of")) {
    MoveBackTo(text, *value, at);
    const std::optional<std::string> field = QuotedAfter(message, "for field");
    std::string expected;
    // The values of the enum fields of that name (every enum field of the schema is unique).
    std::vector<const pb::Descriptor*> todo = {proto::Scenario::descriptor()};
    std::set<const pb::Descriptor*> seen;
    while (!todo.empty() && field && expected.empty()) {
      const pb::Descriptor* d = todo.back();
      todo.pop_back();
      if (!seen.insert(d).second) continue;
      for (int i = 0; i < d->field_count(); ++i) {
        const pb::FieldDescriptor* f = d->field(i);
        if (f->message_type() != nullptr) todo.push_back(f->message_type());
        if (f->enum_type() != nullptr && f->name() == *field && expected.empty()) {
          for (int v = 0; v < f->enum_type()->value_count(); ++v) {
            if (!expected.empty()) expected += ", ";
            expected += f->enum_type()->value(v)->name();
          }
        }
      }
    }
    return "expected a value of " + field.value_or("the field") + " (" + expected + "), got " +
           Quote(*value);
  }
  if (message.rfind("Message type", 0) == 0 && message.find("has no field named") != npos_) {
    const std::optional<std::string> type = QuotedAfter(message, "Message type");
    const std::optional<std::string> field = QuotedAfter(message, "has no field named");
    if (type && field) {
      MoveBackTo(text, *field, at);
      const pb::Descriptor* d = SchemaMessage(*type);
      std::string known;
      for (int i = 0; d != nullptr && i < d->field_count(); ++i) {
        if (!known.empty()) known += ", ";
        known += d->field(i)->name();
      }
      const std::string short_name = d != nullptr ? d->name() : *type;
      return "unknown field " + Quote(*field) + " in " + short_name +
             " (expected one of: " + known + ")";
    }
  }
  if (message == "String literals cannot cross line boundaries.") {
    // Point at the quote that opened the string: the last one left open on that line.
    const size_t line_start = OffsetOf(text, Position{at->line, 0});
    std::optional<size_t> opened;
    for (size_t i = line_start; i < text.size() && text[i] != '\n'; ++i) {
      if (opened) {
        if (text[i] == '\\') {
          ++i;
        } else if (text[i] == text[*opened]) {
          opened.reset();
        }
      } else if (text[i] == '"' || text[i] == '\'') {
        opened = i;
      } else if (text[i] == '#') {
        break;
      }
    }
    if (opened) *at = PositionOf(text, *opened);
    return "unterminated string: expected its closing quote on the same line";
  }
  const bool at_end = OffsetOf(text, *at) >= text.size() ||
                      text.substr(OffsetOf(text, *at)).find_first_not_of(" \t\r\n") == npos_;
  if (at_end) {
    if (auto block = UnclosedBlock(text)) {
      const std::string opened =
          block->second.empty() ? "the block" : "\"" + block->second + " {\"";
      return "expected \"}\" to close " + opened + " opened at " + OneBased(block->first) +
             ", found the end of the file";
    }
  }
  if (auto field = QuotedAfter(message, "Non-repeated field");
      field && message.find("is specified multiple times") != npos_) {
    MoveBackTo(text, *field, at);
    return "field " + Quote(*field) + " is given twice (it takes one value)";
  }
  if (message.rfind("Expected \":\", found ", 0) == 0) {
    std::string found = message.substr(20);
    if (!found.empty() && found.back() == '.') found.pop_back();
    if (found.size() >= 2 && found.front() == '"' && found.back() == '"') {
      found = found.substr(1, found.size() - 2);
    }
    return "expected \":\" after the field name (or \"{\" to open a message), found " + found;
  }
  if (message == "Expected integer, got: -") {
    return "expected a non-negative integer, got a negative number";
  }
  return message;
}

// Where the field at `path` was written, or its nearest enclosing field that was.
std::optional<pb::TextFormat::ParseLocation> Locate(const pb::TextFormat::ParseInfoTree& root,
                                                    const Path& path) {
  std::optional<pb::TextFormat::ParseLocation> best;
  const pb::Descriptor* desc = proto::Scenario::descriptor();
  const pb::TextFormat::ParseInfoTree* tree = &root;
  for (size_t i = 0; i < path.size() && desc != nullptr && tree != nullptr; ++i) {
    const pb::FieldDescriptor* field = desc->FindFieldByName(path[i].field);
    if (field == nullptr) break;
    const int index = path[i].index;
    if (field->is_repeated() != (index >= 0)) break;  // protobuf logs misuse: avoid it
    pb::TextFormat::ParseLocation loc = tree->GetLocation(field, index);
    // A list of scalars ("checkers: [a, b]") is recorded once, at the list: the nearest
    // recorded element before the one named.
    for (int j = index - 1; loc.line < 0 && j >= 0 && field->message_type() == nullptr; --j) {
      loc = tree->GetLocation(field, j);
    }
    if (loc.line < 0) break;
    best = loc;
    if (field->message_type() == nullptr) break;
    tree = tree->GetTreeForNested(field, index);
    desc = field->message_type();
  }
  return best;
}

}  // namespace

// ---- public ---------------------------------------------------------------------------------

Result<Duration> ParseDuration(std::string_view text) {
  const std::string shown = Quote(text);
  auto bad = [&] {
    return InvalidArgumentError(shown +
                                " is not a duration (expected a number and a unit: ns, us, ms, "
                                "s, m or h, e.g. \"250ms\" or \"1.5s\")");
  };
  std::string_view t = text;
  bool negative = false;
  if (!t.empty() && t.front() == '-') {
    negative = true;
    t.remove_prefix(1);
  }
  size_t i = 0;
  uint64_t whole = 0;
  size_t whole_digits = 0;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
    if (whole_digits >= 15) {
      return InvalidArgumentError(shown + " is longer than the longest duration, 24h");
    }
    whole = whole * 10 + static_cast<uint64_t>(t[i] - '0');
    ++whole_digits;
    ++i;
  }
  if (whole_digits == 0) return bad();
  std::string_view fraction;
  if (i < t.size() && t[i] == '.') {
    const size_t start = ++i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    fraction = t.substr(start, i - start);
    if (fraction.empty()) return bad();
  }
  const std::string_view unit = t.substr(i);
  if (unit.empty()) {
    if (whole == 0 && fraction.find_first_not_of('0') == std::string_view::npos) {
      return Duration::Zero();
    }
    return InvalidArgumentError(shown + " has no unit (ns, us, ms, s, m or h)");
  }
  uint64_t unit_nanos = 0;
  if (unit == "ns") {
    unit_nanos = 1;
  } else if (unit == "us") {
    unit_nanos = 1'000;
  } else if (unit == "ms") {
    unit_nanos = 1'000'000;
  } else if (unit == "s") {
    unit_nanos = 1'000'000'000;
  } else if (unit == "m") {
    unit_nanos = 60'000'000'000;
  } else if (unit == "h") {
    unit_nanos = 3'600'000'000'000;
  } else {
    return bad();
  }
  const auto max_nanos = static_cast<uint64_t>(kMaxDuration.nanos());
  if (whole > max_nanos / unit_nanos) {
    return InvalidArgumentError(shown + " is longer than the longest duration, 24h");
  }
  uint64_t nanos = whole * unit_nanos;
  uint64_t scale = unit_nanos;
  for (char c : fraction) {
    const auto digit = static_cast<uint64_t>(c - '0');
    if (scale % 10 != 0) {
      if (digit != 0) {
        return InvalidArgumentError(shown + " is more precise than a nanosecond");
      }
      continue;
    }
    scale /= 10;
    nanos += digit * scale;
  }
  if (nanos > max_nanos) {
    return InvalidArgumentError(shown + " is longer than the longest duration, 24h");
  }
  const auto signed_nanos = static_cast<int64_t>(nanos);
  return Duration::Nanos(negative ? -signed_nanos : signed_nanos);
}

const std::vector<std::string_view>& KnownCheckers() {
  static const std::vector<std::string_view> kCheckers = {"EO-OUT", "EO-CUT", "AL-LOSS", "DUR",
                                                          "REC",    "TXN",    "LIVE",    "DET"};
  return kCheckers;
}

std::vector<std::string> EnabledCheckers(const proto::Scenario& scenario) {
  std::vector<std::string> out;
  if (scenario.checkers_size() > 0) {
    for (const std::string& c : scenario.checkers()) out.push_back(c);
    return out;
  }
  const proto::Checkpointing& c = scenario.checkpointing();
  if (c.mode() == proto::Checkpointing::AT_LEAST_ONCE) {
    out.push_back("AL-LOSS");
  } else {
    out.push_back("EO-OUT");
    out.push_back("EO-CUT");
  }
  out.push_back("DUR");
  out.push_back("REC");
  const auto& ops = scenario.job().operators();
  if (!ops.empty() && ops.rbegin()->kind_case() == proto::Operator::kSink &&
      ops.rbegin()->sink().kind() == proto::Sink::TWO_PHASE_COMMIT) {
    out.push_back("TXN");
  }
  out.push_back("LIVE");
  return out;
}

std::optional<uint32_t> ResolveSubtask(const engine::JobGraph& job,
                                       const engine::ExecutionPlan& plan, std::string_view name) {
  return faults::ResolveSubtask(job, plan, name);
}

Status ValidateScenario(const proto::Scenario& scenario) {
  Result<Resolved> r = Resolve(scenario);
  return r.ok() ? Status::Ok() : r.status();
}

Result<Scenario> ParseScenario(std::string_view text, std::string_view filename) {
  if (text.size() > kMaxFileBytes) {
    return InvalidArgumentError(std::string(filename) + ": larger than 1 MiB");
  }
  Scenario scenario;
  scenario.path = std::string(filename);
  FirstErrorCollector errors;
  pb::TextFormat::ParseInfoTree tree;
  pb::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(&tree);
  const std::string input(text);
  if (!parser.ParseFromString(input, &scenario.spec) || errors.found()) {
    if (!errors.found()) return InvalidArgumentError(std::string(filename) + ": does not parse");
    Position at{errors.line(), errors.column()};
    const std::string what = ExplainSyntaxError(text, errors.message(), &at);
    return InvalidArgumentError(Location(filename, at.line, at.column) + ": " + what);
  }
  Resolved resolved;
  if (Check issue = ValidateAll(scenario.spec, &resolved)) {
    const std::optional<pb::TextFormat::ParseLocation> loc = Locate(tree, issue->path);
    const std::string where =
        loc ? Location(filename, loc->line, loc->column) : std::string(filename);
    return InvalidArgumentError(where + ": " + FormatPath(issue->path) + ": " + issue->message);
  }
  return scenario;
}

Result<Scenario> LoadScenarioFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError(path + ": cannot be read");
  std::string text;
  char buffer[4096];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxFileBytes) return InvalidArgumentError(path + ": larger than 1 MiB");
  }
  if (in.bad()) return NotFoundError(path + ": cannot be read");
  return ParseScenario(text, path);
}

Result<engine::JobGraph> ToJobGraph(const proto::Scenario& scenario) {
  FL_ASSIGN_OR_RETURN(Resolved r, Resolve(scenario));
  return std::move(r.graph);
}

Result<engine::EngineConfig> ToEngineConfig(const proto::Scenario& scenario) {
  FL_ASSIGN_OR_RETURN(Resolved r, Resolve(scenario));
  if (r.uses_rocksdb) {
    return UnimplementedError("checkpointing.backend: ROCKSDB is not in this build (heap only)");
  }
  if (r.uses_incremental) {
    return UnimplementedError("checkpointing.incremental: not in this build");
  }
  return r.config;
}

Result<sim::JobWorldOptions> ToJobWorldOptions(const proto::Scenario& scenario) {
  FL_ASSIGN_OR_RETURN(Resolved r, Resolve(scenario));
  return r.world;
}

Result<Duration> RunLimit(const proto::Scenario& scenario) {
  Duration limit;
  if (Check issue = DurationField({{"run_limit", -1}}, scenario.run_limit(), kDefaultRunLimit,
                                  Sign::kPositive, &limit)) {
    return InvalidArgumentError(FormatPath(issue->path) + ": " + issue->message);
  }
  return limit;
}

std::vector<std::vector<engine::Record>> GenerateSourceLog(const proto::Scenario& scenario) {
  if (!ValidateScenario(scenario).ok()) return {};
  const proto::Source& s = scenario.job().operators(0).source();
  const uint32_t partitions = s.has_partitions() ? s.partitions() : kDefaultPartitions;
  const uint32_t per =
      s.has_records_per_partition() ? s.records_per_partition() : kDefaultRecordsPerPartition;
  const uint32_t keys = s.has_keys() ? s.keys() : kDefaultKeys;
  const uint64_t data_seed = s.has_data_seed() ? s.data_seed() : 1;
  const uint32_t modulus = s.has_modulus() ? s.modulus() : kDefaultModulus;
  const Rng root(data_seed);
  const ZipfDistribution zipf(keys, 1.0);
  std::vector<std::vector<engine::Record>> log(partitions);
  for (uint32_t p = 0; p < partitions; ++p) {
    Rng key_rng = root.Fork("keys").Fork(p);
    Rng value_rng = root.Fork("values").Fork(p);
    std::vector<engine::Record>& records = log[p];
    records.reserve(per);
    for (uint32_t i = 0; i < per; ++i) {
      uint64_t key = 0;
      switch (s.key_pattern()) {
        case proto::Source::UNIFORM:
          key = key_rng.UniformU64(keys);
          break;
        case proto::Source::ZIPF:
          key = zipf.Sample(key_rng);
          break;
        default:
          key = (uint64_t{p} * 7919 + uint64_t{i} * 31) % keys;
          break;
      }
      int64_t value = 1;
      switch (s.value_pattern()) {
        case proto::Source::SEQUENCE:
          value = int64_t{i} + 1;
          break;
        case proto::Source::CYCLE:
          value = int64_t{i % modulus} + 1;
          break;
        case proto::Source::UNIFORM_RANGE:
          value = value_rng.UniformInt(s.min(), s.max());
          break;
        default:
          value = s.has_value() ? s.value() : 1;
          break;
      }
      records.push_back(engine::Record{"k" + std::to_string(key), value, {}});
    }
  }
  return log;
}

}  // namespace faultline::scenarios
