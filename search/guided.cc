// Guided exploration: plain seeds first, then generations of mutants of the kept inputs. Each
// generation is planned whole (parents and mutations drawn in order) before it runs, and judged in
// run order, so the thread count changes nothing but the speed.
#include "search/guided.h"

#include <google/protobuf/text_format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>
#include <utility>

#include "base/rng.h"
#include "engine/api/record.h"
#include "scenarios/soak.h"
#include "search/minimize.h"
#include "search/mutate.h"

namespace faultline::search {
namespace {

constexpr size_t kMarkers = checkers::kMarkerCount;
constexpr size_t kFeatures = kMarkers + kMarkers * kMarkers;  // markers, then ordered pairs a<b
constexpr uint64_t kEnergyScale = 1024;

// The features of a run: each marker it reached, and each pair of them.
std::vector<size_t> Features(const checkers::Markers& m) {
  std::vector<size_t> out;
  for (size_t a = 0; a < kMarkers; ++a) {
    if (!m.has(checkers::kAllMarkers[a])) continue;
    out.push_back(a);
    for (size_t b = a + 1; b < kMarkers; ++b) {
      if (m.has(checkers::kAllMarkers[b])) out.push_back(kMarkers + a * kMarkers + b);
    }
  }
  return out;
}

// A kept input: a scenario with an explicit plan and the seed it runs at.
struct Input {
  uint64_t run = 0;
  uint64_t seed = 0;
  scenarios::Scenario scenario;
  uint64_t horizon_ms = 0;  // where new `at` times fall: the fault phase, or half the run
  std::vector<size_t> features;
};

// An input as bytes, to come back from a worker process (engine/api/record.h's wire helpers):
// run, seed, horizon, the path, then the scenario's serialized spec.
std::string EncodeInput(const Input& in) {
  std::vector<uint8_t> out;
  for (uint64_t v : {in.run, in.seed, in.horizon_ms}) engine::PutU64(out, v);
  engine::PutBytes(out, in.scenario.path);
  engine::PutBytes(out, in.scenario.spec.SerializeAsString());
  return std::string(out.begin(), out.end());
}

std::optional<Input> DecodeInput(std::string_view bytes) {
  engine::ByteReader reader(
      std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  Result<uint64_t> run = reader.U64();
  Result<uint64_t> seed = reader.U64();
  Result<uint64_t> horizon = reader.U64();
  Result<std::string> path = reader.Bytes();
  Result<std::string> spec = reader.Bytes();
  Input in;
  if (!run.ok() || !seed.ok() || !horizon.ok() || !path.ok() || !spec.ok() || !reader.done() ||
      !in.scenario.spec.ParseFromString(*spec)) {
    return std::nullopt;
  }
  in.run = *run;
  in.seed = *seed;
  in.horizon_ms = *horizon;
  in.scenario.path = std::move(*path);
  return in;
}

// A run to make: a plain seed (its case from the source) or a mutant.
struct Planned {
  uint64_t seed = 0;
  std::optional<scenarios::Scenario> mutant;  // unset: a plain seed
  std::optional<uint64_t> parent;             // the parent's run
  std::vector<std::string> mutations;
  uint64_t horizon_ms = 0;
};

class Guide {
 public:
  explicit Guide(const ExploreOptions& o)
      : o_(o),
        rng_(Rng(o.first_seed).Fork("guided")),
        kept_with_(kFeatures),
        runs_with_(kFeatures) {}

  Result<ExploreReport> Run();

 private:
  std::vector<Planned> PlainBatch(uint64_t count);
  std::vector<Planned> MutantBatch(uint64_t count);
  const Input& PickParent();
  SeedResult RunOne(const Planned& p, uint64_t run, std::optional<Input>& input);
  void Judge(SeedResult& r, const Planned& p, std::optional<Input>& input);
  bool OutOfTime() const;

  const ExploreOptions& o_;
  Rng rng_;
  ExploreReport report_;
  std::vector<Input> corpus_;
  std::vector<uint32_t> kept_with_;  // per feature: kept inputs reaching it
  std::vector<uint64_t> runs_with_;  // per feature: runs reaching it
  uint64_t next_plain_ = 0;          // plain seeds planned so far
  uint64_t runs_ = 0;                // runs judged so far
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

bool Guide::OutOfTime() const {
  if (!o_.time_budget_seconds) return false;
  const double spent =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return spent >= *o_.time_budget_seconds;
}

std::vector<Planned> Guide::PlainBatch(uint64_t count) {
  std::vector<Planned> batch(count);
  for (Planned& p : batch) p.seed = o_.first_seed + next_plain_++;
  return batch;
}

// Energy: an input's weight grows with the rarity (among all runs so far) of what it reached.
const Input& Guide::PickParent() {
  std::vector<uint64_t> weights;
  uint64_t total = 0;
  for (const Input& in : corpus_) {
    uint64_t w = 1;
    for (size_t f : in.features) w += kEnergyScale / (1 + runs_with_[f]);
    weights.push_back(w);
    total += w;
  }
  uint64_t pick = rng_.UniformU64(total);
  for (size_t i = 0; i < corpus_.size(); ++i) {
    if (pick < weights[i]) return corpus_[i];
    pick -= weights[i];
  }
  return corpus_.back();
}

std::vector<Planned> Guide::MutantBatch(uint64_t count) {
  std::vector<Planned> batch;
  constexpr int kParentsTried = 4;
  for (uint64_t k = 0; k < count && !corpus_.empty(); ++k) {
    const uint64_t run = runs_ + batch.size() + 1;
    for (int attempt = 0; attempt < kParentsTried; ++attempt) {
      const Input& parent = PickParent();
      std::optional<Mutant> m =
          Mutate(parent.scenario.spec, parent.horizon_ms, "m" + std::to_string(run), rng_);
      if (!m) continue;
      report_.guided->invalid_mutants += m->invalid_draws;
      Planned p;
      p.seed = parent.seed;
      p.parent = parent.run;
      p.mutations = std::move(m->mutations);
      p.horizon_ms = parent.horizon_ms;
      m->spec.set_seed(parent.seed);
      for (const std::string& name : o_.switches) {  // as the runner adds them, so the same run
        const auto& listed = m->spec.teaching_switches();
        if (std::find(listed.begin(), listed.end(), name) == listed.end()) {
          m->spec.add_teaching_switches(name);
        }
      }
      const std::string file =
          parent.scenario.spec.name() + "-run" + std::to_string(run) + ".mutant.textproto";
      p.mutant =
          scenarios::Scenario{(std::filesystem::path(o_.guided_options.mutant_dir) / file).string(),
                              std::move(m->spec)};
      batch.push_back(std::move(p));
      break;
    }
  }
  return batch;
}

// Runs one planned input; for a plain seed, also makes its explicit-plan input (for the corpus).
SeedResult Guide::RunOne(const Planned& p, uint64_t run, std::optional<Input>& input) {
  const bool det = o_.det_every != 0 && (run - 1) % o_.det_every == 0;
  std::vector<faults::PlanEntry> fired;
  SeedResult r;
  Input in;
  in.run = run;
  in.seed = p.seed;
  if (p.mutant) {
    r = RunCase(*p.mutant, p.seed, o_.switches, det, &fired);
    in.scenario = *p.mutant;
    in.horizon_ms = p.horizon_ms;
  } else {
    Result<scenarios::Scenario> c = o_.source(p.seed);
    if (!c.ok()) {
      r.seed = p.seed;
      r.outcome = "ERROR";
      r.failing = true;
      r.group = scenarios::ErrorGroupOf(c.status());
      r.detail = c.status().ToString();
      return r;
    }
    r = RunCase(*c, p.seed, o_.switches, det, &fired);
    Result<proto::Scenario> spec = ExplicitScenario(c->spec, p.seed, fired);
    if (!spec.ok()) return r;
    spec->set_seed(p.seed);
    in.scenario = scenarios::Scenario{c->path, std::move(*spec)};
    in.horizon_ms = r.simulated_ms / 2;
    if (c->spec.has_nemesis()) {
      const Result<Duration> phase = scenarios::ParseDuration(c->spec.nemesis().fault_phase());
      if (phase.ok()) in.horizon_ms = static_cast<uint64_t>(phase->nanos() / 1'000'000);
    }
  }
  input = std::move(in);
  return r;
}

// Counts a result, and keeps its input when it reached something few kept inputs reached.
void Guide::Judge(SeedResult& r, const Planned& p, std::optional<Input>& input) {
  r.run = ++runs_;
  r.mutant_of = p.parent;
  r.mutations = p.mutations;
  TallyResult(r, report_);
  GuidedSummary& g = *report_.guided;
  auto& hits = p.mutant ? g.mutant_hits : g.plain_hits;
  ++(p.mutant ? g.mutants : g.plain_runs);
  for (size_t m = 0; m < kMarkers; ++m) {
    if (r.markers.has(checkers::kAllMarkers[m])) ++hits[m];
  }
  if (r.failing && p.mutant && g.failing_mutants.size() < kFailingMutantsKept) {
    g.failing_mutants.push_back(FailingMutant{*r.run, r.seed, r.group, *p.mutant});
  }
  const std::vector<size_t> features = Features(r.markers);
  bool keep = false;
  for (size_t f : features) {
    keep = keep || kept_with_[f] < o_.guided_options.keep_below;
    ++runs_with_[f];
  }
  if (keep && !r.failing && r.outcome != "SKIPPED" && input) {
    for (size_t f : features) ++kept_with_[f];
    input->features = features;
    corpus_.push_back(std::move(*input));
    ++g.corpus;
  }
  input.reset();
  if (o_.on_result) o_.on_result(r);
  if (o_.progress) o_.progress(report_.done, o_.seeds, report_.failing);
}

Result<ExploreReport> Guide::Run() {
  report_.guided.emplace();
  report_.source_label = o_.source_label;
  const uint64_t total = o_.seeds;
  const GuidedOptions& go = o_.guided_options;
  const uint64_t plain =
      std::min(total, go.plain_seeds != 0 ? go.plain_seeds : std::max<uint64_t>(1, total / 4));
  unsigned jobs = o_.jobs != 0 ? o_.jobs : std::max(1u, std::thread::hardware_concurrency());
  report_.jobs = jobs;
  report_.isolated = o_.isolate;
  // Batches of `generation` runs: plain seeds and mutants alternate until the plain seeds are
  // used up (so a time budget still reaches mutants), then mutants only.
  const uint64_t size = std::max<uint32_t>(go.generation, 1);
  std::vector<Planned> batch = PlainBatch(std::min(size, plain));
  while (!batch.empty()) {
    std::vector<std::optional<Input>> inputs(batch.size());
    const uint64_t first_run = runs_ + 1;
    const bool was_plain = !batch.front().mutant;
    const auto run = [&](uint64_t i) { return RunOne(batch[i], first_run + i, inputs[i]); };
    const auto judge = [&](uint64_t i, SeedResult& r) { Judge(r, batch[i], inputs[i]); };
    uint64_t delivered = 0;
    if (o_.isolate) {
      // The child's input comes back encoded (its writes to `inputs` would be lost).
      const auto run_child = [&](uint64_t i, std::string& extra) {
        SeedResult r = RunOne(batch[i], first_run + i, inputs[i]);
        if (inputs[i]) extra = EncodeInput(*inputs[i]);
        return r;
      };
      const auto crashed = [&](uint64_t i, const ChildEnd& end) {
        const Planned& p = batch[i];
        SeedResult r = CrashResult(p.seed, p.mutant ? p.mutant->spec.name() : "", end);
        if (p.mutant) {
          r.reproduce = scenarios::ReproduceCommand(p.mutant->path, p.seed, o_.switches);
        } else {
          NameCrashedCase(o_.source, o_.switches, r);
        }
        return r;
      };
      const auto judge_child = [&](uint64_t i, SeedResult& r, const std::string& extra) {
        if (!extra.empty()) inputs[i] = DecodeInput(extra);
        Judge(r, batch[i], inputs[i]);
      };
      delivered = RunIsolatedSeeds(
          batch.size(), jobs, [&] { return OutOfTime(); }, run_child, crashed, judge_child);
    } else {
      delivered = RunInOrder(
          batch.size(), jobs, [&] { return OutOfTime(); }, run, judge);
    }
    if (delivered < batch.size()) {
      report_.budget_exhausted = true;
      break;
    }
    if (runs_ >= total) break;
    const uint64_t next = std::min(size, total - runs_);
    const uint64_t plain_left = plain - std::min(plain, next_plain_);
    batch.clear();
    if (was_plain || plain_left == 0) batch = MutantBatch(next);
    if (!batch.empty()) ++report_.guided->generations;
    // The plain seeds' turn, or nothing kept yet (every run failed or reached no marker): more
    // plain seeds.
    if (batch.empty()) batch = PlainBatch(plain_left > 0 ? std::min(next, plain_left) : next);
  }
  report_.range = SeedRange{o_.first_seed, report_.guided->plain_runs};
  report_.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::stable_sort(
      report_.groups.begin(), report_.groups.end(),
      [](const FailureGroup& a, const FailureGroup& b) { return a.seeds.size() > b.seeds.size(); });
  return std::move(report_);
}

}  // namespace

Result<ExploreReport> ExploreGuided(const ExploreOptions& options) {
  if (options.shard.count != 1) {
    return InvalidArgumentError(
        "explore: --guided runs cannot be sharded (later inputs depend on earlier results)");
  }
  if (options.guided_options.keep_below == 0) {
    return InvalidArgumentError("explore: the keeping threshold must be at least 1");
  }
  Guide guide(options);
  return guide.Run();
}

std::string MutantText(const FailingMutant& m) {
  std::string text;
  google::protobuf::TextFormat::PrintToString(m.scenario.spec, &text);
  return "# " + m.scenario.spec.name() + ": a mutant made by faultline explore --guided (run " +
         std::to_string(m.run) + ", seed " + std::to_string(m.seed) + "): " + m.group +
         "\n# Replay: faultline run " + m.scenario.path + "\n\n" + text;
}

}  // namespace faultline::search
