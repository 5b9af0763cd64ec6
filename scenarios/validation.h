// Shared by the loader's files (scenarios/*.cc), not a public API: field paths and the issues
// validation finds, the schema's limits and defaults, duration fields, range errors, and what
// one validation pass resolves for the conversions (Resolved).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"
#include "engine/api/job.h"
#include "engine/exec/config.h"
#include "engine/exec/plan.h"
#include "scenarios/duration.h"
#include "scenarios/scenario.pb.h"
#include "simulator/job_world.h"

namespace faultline::scenarios::internal {

namespace proto = ::faultline::scenario;

// ---- limits and defaults ---------------------------------------------------------------------

inline constexpr size_t kMaxFileBytes = size_t{1} << 20;
inline constexpr uint32_t kMaxTaskManagers = 256;
inline constexpr uint32_t kMaxSubtasks = 4096;
inline constexpr uint32_t kMaxParallelism = 32768;  // Flink's bound on max parallelism
inline constexpr uint32_t kMaxPartitions = 1024;
inline constexpr uint64_t kMaxSourceRecords = 1'000'000;
inline constexpr uint32_t kMaxKeys = 1'000'000;
inline constexpr size_t kMaxNameBytes = 64;
inline constexpr uint32_t kMaxCredits = 1024;  // sim::NetworkOptions::credits_max
inline constexpr uint32_t kMinBufferBytes = 256;
inline constexpr uint32_t kMaxBufferBytes = 16u << 20;
inline constexpr uint32_t kMaxOutputQueue = 1024;
inline constexpr uint32_t kMaxConcurrent = 16;
inline constexpr uint32_t kMaxRetained = 100;
inline constexpr int64_t kMaxFanOut = 16;
inline constexpr int64_t kMaxValueModulus = 1'000'000;
inline constexpr uint32_t kMaxRecordsPerRead = 4096;

inline constexpr uint32_t kDefaultParallelism = 1;
inline constexpr uint32_t kDefaultTaskManagers = 3;
inline constexpr uint32_t kDefaultPartitions = 4;
inline constexpr uint32_t kDefaultRecordsPerPartition = 1000;
inline constexpr uint32_t kDefaultKeys = 100;
inline constexpr uint32_t kDefaultModulus = 13;
inline constexpr Duration kDefaultRunLimit = Duration::Seconds(60);

// ---- issues and field paths ------------------------------------------------------------------

struct PathPart {
  std::string field;
  int index = -1;  // the element of a repeated field; -1: the field itself
};
using Path = std::vector<PathPart>;

Path At(const Path& base, std::string field, int index = -1);
// "job.operators[2].parallelism".
std::string FormatPath(const Path& path);
// "faults[0].partition.side_b[1]" -> {faults, 0}, {partition}, {side_b, 1}.
Path ParsePath(const std::string& text);

struct Issue {
  Path path;
  std::string message;
};
using Check = std::optional<Issue>;

Check Fail(const Path& path, std::string message);

#define FL_RETURN_IF_ISSUE(expr) FL_RETURN_IF_ENGAGED(expr)

bool Contains(const std::vector<std::string_view>& names, std::string_view name);
// 1 to 64 of A-Z a-z 0-9 _ - .
bool ValidName(std::string_view name);

// The one form of a range error: "<value> is outside [<lo>, <hi>]".
Check Outside(const Path& path, int64_t value, int64_t lo, int64_t hi);
// `value` (when set) must lie in [lo, hi]: else Outside.
Check InRange(const Path& path, bool has, int64_t value, int64_t lo, int64_t hi);

// ---- durations -------------------------------------------------------------------------------

enum class Sign { kPositive, kNonNegative, kNonZero };

// Reads a duration field: empty means `fallback`.
Check DurationField(const Path& path, const std::string& text, Duration fallback, Sign sign,
                    Duration* out);

// ---- what validation resolves -----------------------------------------------------------------

// What validation resolved about each operator, for the conversion.
struct ResolvedOp {
  std::string name;  // empty for key_by
  uint32_t parallelism = 1;
  uint32_t max_parallelism = 0;  // 0: the engine's default
  Duration record_cost;
};

struct JobInfo {
  std::vector<ResolvedOp> ops;
  uint32_t subtasks = 0;
  uint32_t highest_parallelism = 0;
  uint32_t partitions = kDefaultPartitions;
  proto::Sink::Kind sink_kind = proto::Sink::TWO_PHASE_COMMIT;
  std::string name;
};

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

}  // namespace faultline::scenarios::internal
