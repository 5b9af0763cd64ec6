#include "engine/api/job.h"

#include <set>

#include "engine/state/key_groups.h"

namespace faultline::engine {

std::string_view OperatorKindName(OperatorKind kind) {
  switch (kind) {
    case OperatorKind::kSource:
      return "source";
    case OperatorKind::kMap:
      return "map";
    case OperatorKind::kFilter:
      return "filter";
    case OperatorKind::kFlatMap:
      return "flat_map";
    case OperatorKind::kKeyedProcess:
      return "keyed_process";
    case OperatorKind::kSink:
      return "sink";
  }
  return "?";
}

std::string_view PartitionerName(Partitioner partitioner) {
  switch (partitioner) {
    case Partitioner::kForward:
      return "forward";
    case Partitioner::kHash:
      return "hash";
    case Partitioner::kRebalance:
      return "rebalance";
    case Partitioner::kBroadcast:
      return "broadcast";
  }
  return "?";
}

std::string_view SinkKindName(SinkKind kind) {
  switch (kind) {
    case SinkKind::kTwoPhaseCommit:
      return "two_phase_commit";
    case SinkKind::kAtLeastOnce:
      return "at_least_once";
    case SinkKind::kUpsert:
      return "upsert";
  }
  return "?";
}

OperatorSpec& DataStream::Append(std::string name, OperatorKind kind, uint32_t parallelism) {
  std::vector<OperatorSpec>& ops = job_->operators_;
  OperatorSpec spec;
  spec.name = std::move(name);
  spec.kind = kind;
  spec.parallelism = parallelism != 0 ? parallelism : (ops.empty() ? 1 : ops.back().parallelism);
  // Forward needs equal parallelism; otherwise Flink's default is rebalance.
  Partitioner partitioner = Partitioner::kForward;
  if (!ops.empty() && ops.back().parallelism != spec.parallelism) {
    partitioner = Partitioner::kRebalance;
  }
  if (next_partitioner_) partitioner = *next_partitioner_;
  spec.input_partitioner = partitioner;
  spec.key_selector = std::move(next_key_selector_);
  next_partitioner_.reset();
  next_key_selector_ = nullptr;
  ops.push_back(std::move(spec));
  return ops.back();
}

DataStream& DataStream::Map(std::string name, MapFn fn, uint32_t parallelism) {
  Append(std::move(name), OperatorKind::kMap, parallelism).map = std::move(fn);
  return *this;
}

DataStream& DataStream::Filter(std::string name, FilterFn fn, uint32_t parallelism) {
  Append(std::move(name), OperatorKind::kFilter, parallelism).filter = std::move(fn);
  return *this;
}

DataStream& DataStream::FlatMap(std::string name, FlatMapFn fn, uint32_t parallelism) {
  Append(std::move(name), OperatorKind::kFlatMap, parallelism).flat_map = std::move(fn);
  return *this;
}

DataStream& DataStream::KeyBy(KeySelector selector) {
  next_partitioner_ = Partitioner::kHash;
  next_key_selector_ = std::move(selector);
  return *this;
}

DataStream& DataStream::Process(std::string name, std::shared_ptr<KeyedProcessFunction> fn,
                                uint32_t parallelism, uint32_t max_parallelism) {
  OperatorSpec& spec = Append(std::move(name), OperatorKind::kKeyedProcess, parallelism);
  spec.keyed_process = std::move(fn);
  spec.max_parallelism = max_parallelism;
  return *this;
}

DataStream& DataStream::Rebalance() {
  next_partitioner_ = Partitioner::kRebalance;
  return *this;
}

DataStream& DataStream::Broadcast() {
  next_partitioner_ = Partitioner::kBroadcast;
  return *this;
}

DataStream& DataStream::Sink(std::string name, SinkOptions options) {
  OperatorSpec& spec = Append(std::move(name), OperatorKind::kSink, options.parallelism);
  spec.sink = options;
  return *this;
}

DataStream& DataStream::WithRecordCost(Duration cost) {
  job_->operators_.back().record_cost = cost;
  return *this;
}

DataStream& JobBuilder::Source(std::string name, SourceOptions options) {
  if (!operators_.empty()) {
    deferred_error_ = InvalidArgumentError("a job has one source, and it comes first");
  }
  OperatorSpec spec;
  spec.name = std::move(name);
  spec.kind = OperatorKind::kSource;
  spec.parallelism = options.parallelism;
  spec.source = options;
  operators_.push_back(std::move(spec));
  return stream_;
}

Result<JobGraph> JobBuilder::Build() const {
  FL_RETURN_IF_ERROR(deferred_error_);
  if (operators_.empty() || operators_.front().kind != OperatorKind::kSource) {
    return InvalidArgumentError("job " + name_ + ": the first operator must be a source");
  }
  if (operators_.back().kind != OperatorKind::kSink) {
    return InvalidArgumentError("job " + name_ + ": the last operator must be a sink");
  }
  std::set<std::string> names;
  JobGraph graph{name_, operators_};
  for (size_t i = 0; i < graph.operators.size(); ++i) {
    OperatorSpec& op = graph.operators[i];
    const std::string where =
        "job " + name_ + ", operator " + std::to_string(i) + " (" + op.name + ")";
    if (op.name.empty()) return InvalidArgumentError(where + ": an operator needs a name");
    if (!names.insert(op.name).second) {
      return InvalidArgumentError(where + ": duplicate operator name");
    }
    if (op.max_parallelism == 0) op.max_parallelism = DefaultMaxParallelism(op.parallelism);
    FL_RETURN_IF_ERROR(ValidateParallelism(op.parallelism, op.max_parallelism).WithContext(where));
    if (i > 0 && op.kind == OperatorKind::kSource) {
      return InvalidArgumentError(where + ": only the first operator may be a source");
    }
    if (i + 1 < graph.operators.size() && op.kind == OperatorKind::kSink) {
      return InvalidArgumentError(where + ": a sink must be the last operator");
    }
    if (op.kind == OperatorKind::kKeyedProcess) {
      if (op.input_partitioner != Partitioner::kHash || !op.key_selector) {
        return InvalidArgumentError(where + ": a keyed operator needs a KeyBy before it");
      }
      if (!op.keyed_process) return InvalidArgumentError(where + ": no process function");
    } else if (op.input_partitioner == Partitioner::kHash && op.kind != OperatorKind::kSink) {
      return InvalidArgumentError(where + ": KeyBy must be followed by Process or Sink");
    }
    if (i > 0 && op.input_partitioner == Partitioner::kForward &&
        graph.operators[i - 1].parallelism != op.parallelism) {
      return InvalidArgumentError(where + ": a forward edge needs equal parallelism (" +
                                  std::to_string(graph.operators[i - 1].parallelism) + " vs " +
                                  std::to_string(op.parallelism) + ")");
    }
    if ((op.kind == OperatorKind::kMap && !op.map) ||
        (op.kind == OperatorKind::kFilter && !op.filter) ||
        (op.kind == OperatorKind::kFlatMap && !op.flat_map)) {
      return InvalidArgumentError(where + ": no user function");
    }
  }
  return graph;
}

}  // namespace faultline::engine
