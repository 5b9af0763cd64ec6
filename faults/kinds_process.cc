// Process faults: crashes, a failed task, a pause.
#include <array>

#include "faults/fault_descriptors.h"

namespace faultline::faults {

std::optional<Duration> RestartOf(const FaultSpec& s) {
  if (s.never_restart) return std::nullopt;
  return s.restart_after.value_or(Duration::Millis(500));
}

std::string CrashNode(ActContext& ctx, uint32_t node, bool lose_disk,
                      std::optional<Duration> restart_after) {
  sim::World& world = ctx.world;
  if (!world.IsUp(node)) return ctx.Down(node);
  world.Crash(node, ctx.tag);
  if (lose_disk) world.LoseDisk(node);
  if (restart_after) {
    const Time at = ctx.EndOf(*restart_after);
    world.loop().Schedule(at, [&world, node] {
      if (!world.IsUp(node)) world.Restart(node);
    });
    ctx.touch(at);
  } else {
    ctx.permanent();
  }
  return {};
}

namespace {

constexpr std::array kCrashTaskManagerFields = {
    FaultField{.name = "task_manager", .type = FieldType::kTaskManager},
    kRestartField,
    FaultField{.name = "lose_disk", .type = FieldType::kFlag, .flag = &FaultSpec::lose_disk},
};
constexpr std::array kCrashJobManagerFields = {
    kRestartField,
};
constexpr std::array kFailTaskFields = {
    FaultField{.name = "subtask", .type = FieldType::kSubtask},
};
constexpr std::array kPauseFields = {
    kNodeField,
    RequiredDuration("duration", &FaultSpec::duration),
};

void DrawCrashTaskManager(DrawContext& ctx, FaultSpec& s) {
  Rng& rng = ctx.rng;
  const std::vector<uint32_t>& task_managers = ctx.targets.task_managers;
  s.node =
      task_managers.empty() ? ctx.AnyNode() : task_managers[rng.UniformU64(task_managers.size())];
  s.restart_after = ctx.Dur(Duration::Millis(100), Duration::Seconds(2));
  s.lose_disk = rng.Bernoulli(0.1);
}

std::string CrashTaskManager(ActContext& ctx, const FaultSpec& s) {
  return CrashNode(ctx, *s.node, s.lose_disk, RestartOf(s));
}

void DrawCrashJobManager(DrawContext& ctx, FaultSpec& s) {
  s.restart_after = ctx.Dur(Duration::Millis(100), Duration::Seconds(2));
}

std::string CrashJobManager(ActContext& ctx, const FaultSpec& s) {
  return CrashNode(ctx, ctx.targets.job_manager, s.lose_disk, RestartOf(s));
}

void DrawFailTask(DrawContext& ctx, FaultSpec& s) {
  const std::vector<std::string>& names = ctx.targets.task_names;
  const auto task = static_cast<uint32_t>(ctx.rng.UniformU64(std::max<size_t>(1, names.size())));
  if (task < names.size()) s.subtask = names[task];
}

std::string FailTask(ActContext& ctx, const FaultSpec& s) {
  std::optional<uint32_t> task;
  if (ctx.targets.resolve_subtask) task = ctx.targets.resolve_subtask(s.subtask);
  if (!task || !ctx.targets.fail_task ||
      !ctx.targets.fail_task(*task, InternalError(ctx.tag + ": the task failed"))) {
    return "no live process ran task " + (task ? std::to_string(*task) : s.subtask);
  }
  return {};
}

void DrawPause(DrawContext& ctx, FaultSpec& s) {
  s.node = ctx.AnyNode();
  s.duration = ctx.Dur(Duration::Millis(50), Duration::Seconds(1));
}

std::string Pause(ActContext& ctx, const FaultSpec& s) {
  sim::World& world = ctx.world;
  const uint32_t node = *s.node;
  if (!world.IsUp(node)) return ctx.Down(node);
  if (world.IsPaused(node)) return "node " + std::to_string(node) + " was paused already";
  world.Pause(node);
  const Time at = ctx.EndOf(s.duration.value_or(Duration::Zero()));
  const uint32_t incarnation = world.Incarnation(node);
  world.loop().Schedule(at, [&world, node, incarnation] {
    if (world.IsUp(node) && world.Incarnation(node) == incarnation) world.Resume(node);
  });
  ctx.touch(at);
  return {};
}

}  // namespace

const FaultKindDescriptor kCrashTaskManagerDescriptor = {
    .fields = kCrashTaskManagerFields, .draw = DrawCrashTaskManager, .act = CrashTaskManager};
const FaultKindDescriptor kCrashJobManagerDescriptor = {.fields = kCrashJobManagerFields,
                                                        .draw = DrawCrashJobManager,
                                                        .act = CrashJobManager,
                                                        .targets_job_manager = true};

// --- operations: what an operator does to a running job -------------------------------------

namespace {

constexpr uint32_t kMaxRescaleParallelism = 32768;
constexpr std::array kRescaleFields = {
    FaultField{.name = "parallelism",
               .type = FieldType::kInt64,
               .required = true,
               .int64 = &FaultSpec::parallelism,
               .check_int =
                   [](int64_t p) {
                     if (p >= 1 && p <= kMaxRescaleParallelism) return std::string();
                     return std::to_string(p) + " is outside [1, " +
                            std::to_string(kMaxRescaleParallelism) + "]";
                   }},
};

void DrawRescale(DrawContext& ctx, FaultSpec& s) {
  const std::vector<uint32_t>& choices = ctx.targets.rescale_parallelisms;
  const uint64_t pick = ctx.rng.UniformU64(std::max<size_t>(1, choices.size()));
  s.parallelism = pick < choices.size() ? choices[pick] : 1;
}

std::string Rescale(ActContext& ctx, const FaultSpec& s) {
  if (!ctx.targets.rescale) return "this world cannot rescale its job";
  return ctx.targets.rescale(static_cast<uint32_t>(s.parallelism));
}

}  // namespace

const FaultKindDescriptor kRescaleDescriptor = {
    .fields = kRescaleFields, .draw = DrawRescale, .act = Rescale, .targets_job_manager = true};

namespace {

constexpr std::array kSavepointFields = {
    FaultField{.name = "stop", .type = FieldType::kFlag, .flag = &FaultSpec::stop},
    FaultField{.name = "resume", .type = FieldType::kFlag, .flag = &FaultSpec::resume},
    FaultField{.name = "parallelism",
               .type = FieldType::kInt64,
               .int64 = &FaultSpec::parallelism,
               .check_int =
                   [](int64_t p) {
                     if (p >= 0 && p <= kMaxRescaleParallelism) return std::string();
                     return std::to_string(p) + " is outside [0, " +
                            std::to_string(kMaxRescaleParallelism) + "] (0: unchanged)";
                   }},
    FaultField{.name = "backend",
               .type = FieldType::kEnum,
               .int64 = &FaultSpec::backend,
               .check_int =
                   [](int64_t b) {
                     if (b >= 0 && static_cast<size_t>(b) < kResumeBackends.size()) {
                       return std::string();
                     }
                     return "unknown backend " + std::to_string(b);
                   }},
    FaultField{.name = "claim", .type = FieldType::kFlag, .flag = &FaultSpec::claim},
};

void DrawSavepoint(DrawContext& ctx, FaultSpec& s) {
  // A nemesis takes an intermediate savepoint: it changes nothing a checker judges.
  (void)ctx;
  s.stop = false;
  s.resume = false;
}

std::string Savepoint(ActContext& ctx, const FaultSpec& s) {
  if (!ctx.targets.savepoint) return "this world cannot take a savepoint";
  return ctx.targets.savepoint(FaultTargets::Savepoint{
      .stop = s.stop,
      .resume = s.resume,
      .parallelism = static_cast<uint32_t>(s.parallelism),
      .backend = std::string(kResumeBackends[static_cast<size_t>(s.backend)]),
      .claim = s.claim});
}

}  // namespace

const FaultKindDescriptor kSavepointDescriptor = {.fields = kSavepointFields,
                                                  .draw = DrawSavepoint,
                                                  .act = Savepoint,
                                                  .targets_job_manager = true};

const FaultKindDescriptor kFailTaskDescriptor = {
    .fields = kFailTaskFields, .draw = DrawFailTask, .act = FailTask};
const FaultKindDescriptor kPauseDescriptor = {
    .fields = kPauseFields, .draw = DrawPause, .act = Pause};

}  // namespace faultline::faults
