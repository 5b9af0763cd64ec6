// The job API: what a user writes a streaming job against, in the spirit of Flink's DataStream
// API. A job is a pipeline of operators, each with its own parallelism, connected by
// partitioners:
//
//   JobBuilder job("sums");
//   job.Source("source", {.source_id = 0, .parallelism = 4})
//       .Map("double", [](const Record& r) { return Record{r.key, r.value * 2}; })
//       .KeyBy([](const Record& r) { return r.key; })
//       .Process("sum", std::make_shared<RunningSum>())
//       .Sink("out", {.kind = SinkKind::kTwoPhaseCommit});
//   Result<JobGraph> graph = job.Build();
//
// User functions are plain callables and must be deterministic (as Flink requires for
// exactly-once). Keyed state is reached through the KeyedContext of a KeyedProcessFunction.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "engine/api/record.h"

namespace faultline::engine {

// Collects a function's outputs.
class Collector {
 public:
  virtual ~Collector() = default;
  virtual void Emit(Record record) = 0;
};

// Keyed state of the current key, by state name. Values are int64 or bytes; absent reads as
// nullopt / empty.
class KeyedContext {
 public:
  virtual ~KeyedContext() = default;
  virtual const std::string& key() const = 0;
  // Value state.
  virtual std::optional<int64_t> GetValue(std::string_view state) = 0;
  virtual void SetValue(std::string_view state, int64_t value) = 0;
  virtual void ClearValue(std::string_view state) = 0;
  // List state (of int64).
  virtual void AddToList(std::string_view state, int64_t value) = 0;
  virtual std::vector<int64_t> GetList(std::string_view state) = 0;
  // Map state (string -> int64), in user-key order.
  virtual std::optional<int64_t> GetMapEntry(std::string_view state, std::string_view user_key) = 0;
  virtual void PutMapEntry(std::string_view state, std::string_view user_key, int64_t value) = 0;
  virtual void RemoveMapEntry(std::string_view state, std::string_view user_key) = 0;
  virtual std::vector<std::pair<std::string, int64_t>> GetMap(std::string_view state) = 0;
  // Reducing state: Add folds the value in with the state's reduce function (sum by default).
  virtual void AddToReducing(std::string_view state, int64_t value) = 0;
  virtual std::optional<int64_t> GetReducing(std::string_view state) = 0;
};

class KeyedProcessFunction {
 public:
  virtual ~KeyedProcessFunction() = default;
  // Called for every record of the current key. Outputs carry the input's provenance unless
  // the function sets another.
  virtual void Process(const Record& in, KeyedContext& state, Collector& out) = 0;
};

using MapFn = std::function<Record(const Record&)>;
using FilterFn = std::function<bool(const Record&)>;
using FlatMapFn = std::function<void(const Record&, Collector&)>;
using KeySelector = std::function<std::string(const Record&)>;

enum class Partitioner : uint8_t { kForward, kHash, kRebalance, kBroadcast };
enum class OperatorKind : uint8_t { kSource, kMap, kFilter, kFlatMap, kKeyedProcess, kSink };
enum class SinkKind : uint8_t { kTwoPhaseCommit, kAtLeastOnce, kUpsert };

std::string_view OperatorKindName(OperatorKind kind);
std::string_view PartitionerName(Partitioner partitioner);
std::string_view SinkKindName(SinkKind kind);

struct SourceOptions {
  uint32_t source_id = 0;    // which log the records come from (scenario-defined)
  uint32_t parallelism = 1;  // partitions are assigned round-robin to subtasks
  uint32_t max_records_per_read = 64;
};

struct SinkOptions {
  SinkKind kind = SinkKind::kTwoPhaseCommit;
  uint32_t parallelism = 0;  // 0: the upstream operator's
};

// One operator of the job graph. Operators are numbered in pipeline order; operator i's input
// is operator i - 1, connected by `input_partitioner`.
struct OperatorSpec {
  std::string name;
  OperatorKind kind = OperatorKind::kMap;
  uint32_t parallelism = 1;
  uint32_t max_parallelism = 0;  // 0: Flink's default for the parallelism
  Partitioner input_partitioner = Partitioner::kForward;
  MapFn map;
  FilterFn filter;
  FlatMapFn flat_map;
  KeySelector key_selector;  // for the hash partitioner into a keyed operator
  std::shared_ptr<KeyedProcessFunction> keyed_process;
  SourceOptions source;
  SinkOptions sink;
  // Simulated processing time per record (a source's emission interval): how a slow operator
  // is modelled. Zero: instantaneous.
  Duration record_cost = Duration::Zero();
};

// A validated job: immutable, shared by every process (like a job's jar).
struct JobGraph {
  std::string name;
  std::vector<OperatorSpec> operators;
};

class JobBuilder;

// A handle on the last operator added: the next call appends an operator after it.
class DataStream {
 public:
  DataStream& Map(std::string name, MapFn fn, uint32_t parallelism = 0);
  DataStream& Filter(std::string name, FilterFn fn, uint32_t parallelism = 0);
  DataStream& FlatMap(std::string name, FlatMapFn fn, uint32_t parallelism = 0);
  // Repartitions by key: the next operator must be Process.
  DataStream& KeyBy(KeySelector selector);
  DataStream& Process(std::string name, std::shared_ptr<KeyedProcessFunction> fn,
                      uint32_t parallelism = 0, uint32_t max_parallelism = 0);
  DataStream& Rebalance();
  DataStream& Broadcast();
  DataStream& Sink(std::string name, SinkOptions options = {});
  // Sets the simulated per-record processing time of the last operator added.
  DataStream& WithRecordCost(Duration cost);

 private:
  friend class JobBuilder;
  explicit DataStream(JobBuilder* job) : job_(job) {}
  OperatorSpec& Append(std::string name, OperatorKind kind, uint32_t parallelism);
  JobBuilder* job_;
  std::optional<Partitioner> next_partitioner_;
  KeySelector next_key_selector_;
};

class JobBuilder {
 public:
  explicit JobBuilder(std::string name) : name_(std::move(name)), stream_(this) {}
  DataStream& Source(std::string name, SourceOptions options);
  // Validates the pipeline: exactly one source first and sinks last; keyed operators preceded
  // by a KeyBy; parallelism within max parallelism; unique operator names.
  Result<JobGraph> Build() const;

 private:
  friend class DataStream;
  std::string name_;
  std::vector<OperatorSpec> operators_;
  DataStream stream_;
  Status deferred_error_;
};

}  // namespace faultline::engine
