// The world of a scenario (cluster, network, storage), its checkpointing, restart strategy and
// teaching switches: validated, and resolved into the engine's config and the world's options.
#include <set>

#include "base/text.h"
#include "engine/state/rocksdb/rocksdb_state_backend.h"
#include "scenarios/passes.h"

namespace faultline::scenarios::internal {
namespace {

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

}  // namespace

Check ValidateCluster(const proto::Scenario& s, Resolved* r) {
  const Path path{{"cluster", -1}};
  const proto::Cluster& c = s.cluster();
  FL_RETURN_IF_ISSUE(InRange(At(path, "task_managers"), c.has_task_managers(), c.task_managers(), 1,
                             kMaxTaskManagers));
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
  FL_RETURN_IF_ISSUE(InRange(At(path, "channel_credits"), n.has_channel_credits(),
                             n.channel_credits(), 1, kMaxCredits));
  if (n.has_channel_credits()) e.channel_credits = n.channel_credits();
  FL_RETURN_IF_ISSUE(InRange(At(path, "buffer_bytes"), n.has_buffer_bytes(), n.buffer_bytes(),
                             kMinBufferBytes, kMaxBufferBytes));
  if (n.has_buffer_bytes()) e.buffer_bytes_max = n.buffer_bytes();
  FL_RETURN_IF_ISSUE(DurationField(At(path, "buffer_timeout"), n.buffer_timeout(), e.buffer_timeout,
                                   Sign::kNonNegative, &e.buffer_timeout));
  FL_RETURN_IF_ISSUE(InRange(At(path, "output_queue"), n.has_output_queue(), n.output_queue(), 1,
                             kMaxOutputQueue));
  if (n.has_output_queue()) e.output_queue_max = n.output_queue();
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
  // Unset: transactions never expire; set, it must be a positive duration.
  FL_RETURN_IF_ISSUE(DurationField(At(path, "output_transaction_timeout"),
                                   st.output_transaction_timeout(), Duration::Zero(),
                                   Sign::kPositive, &w.output_transaction_timeout));
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
  FL_RETURN_IF_ISSUE(InRange(At(path, "max_concurrent"), c.has_max_concurrent(), c.max_concurrent(),
                             1, kMaxConcurrent));
  if (c.has_max_concurrent()) cc.max_concurrent = c.max_concurrent();
  if (cc.mode == engine::CheckpointMode::kUnaligned && cc.max_concurrent > 1) {
    return Fail(At(path, "max_concurrent"),
                std::to_string(cc.max_concurrent) +
                    " contradicts unaligned checkpoints, which allow 1 at a time");
  }
  cc.tolerable_failures = c.tolerable_failures();
  FL_RETURN_IF_ISSUE(
      InRange(At(path, "retained"), c.has_retained(), c.retained(), 1, kMaxRetained));
  if (c.has_retained()) cc.retained = c.retained();
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
  if (c.has_compaction_trigger() && !c.incremental()) {
    return Fail(At(path, "compaction_trigger"),
                "a compaction trigger needs incremental checkpoints (a full checkpoint reads "
                "the state, not its files)");
  }
  FL_RETURN_IF_ISSUE(InRange(At(path, "compaction_trigger"), c.has_compaction_trigger(),
                             c.compaction_trigger(), 0, 1000));
  if (r->uses_rocksdb) {
    engine::RocksDbBackendOptions rocksdb;
    rocksdb.incremental = c.incremental();
    if (c.has_compaction_trigger()) rocksdb.compaction_l0_files = c.compaction_trigger();
    r->config.state_backend = engine::RocksDbStateBackends(rocksdb);
    r->config.state_backend_name = c.incremental() ? "rocksdb-incremental" : "rocksdb";
  }
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
      FL_RETURN_IF_ISSUE(InRange(At(p, "multiplier_percent"), e.has_multiplier_percent(),
                                 e.multiplier_percent(), 100, 10000));
      if (e.has_multiplier_percent()) out.multiplier_percent = e.multiplier_percent();
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
    if (name == "delete-shared-on-subsume" && !r->uses_incremental) {
      return Fail(path,
                  "delete-shared-on-subsume plants its mistake in incremental checkpoints "
                  "(checkpointing { backend: ROCKSDB incremental: true })");
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

}  // namespace faultline::scenarios::internal
