// word_totals: a word count on faultline's stream engine, run on the deterministic simulator
// with a TaskManager crash in the middle of it, then checked for exactly-once output.
//
// Copy this file to write a job of your own. It has five parts, in this order:
//
//   1. the job      source -> map -> filter -> flat_map -> key_by -> keyed process -> sink,
//                   built with the job API (engine/api/job.h);
//   2. the input    lines of text appended to the simulated source log, one partition per
//                   chapter of a small book;
//   3. the world    a JobManager and 3 TaskManagers (simulator/job_world.h), checkpoints every
//                   simulated second, a two-phase-commit sink;
//   4. the fault    TaskManager 2 crashes 2.5 simulated seconds in and restarts 0.5 s later;
//   5. the checks   every source record that passed the filter is reflected exactly once in the
//                   committed output (by provenance), and the committed totals equal a direct
//                   count of the input.
//
// Usage: example_word_totals [--seed N] [--switch NAME]...
//   --switch plants one of the engine's teaching switches (engine/exec/config.h), a protocol
//   mistake real engines made; try --switch offset-after-emit and watch the check fail.
// Exit codes: 0 when exactly-once held, 1 when it did not, 2 for bad arguments.
//
// Everything is deterministic: the same seed and build print the same trace hash.
#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/build_info.h"
#include "base/rng.h"
#include "engine/api/job.h"
#include "engine/exec/events.h"
#include "simulator/job_world.h"

namespace {

using faultline::Duration;
using faultline::Time;
using faultline::engine::Collector;
using faultline::engine::KeyedContext;
using faultline::engine::Record;
using faultline::engine::RecordId;

constexpr uint32_t kChapters = 4;  // source partitions, one per chapter
constexpr uint32_t kLinesPerChapter = 2500;
constexpr Duration kCheckpointInterval = Duration::Seconds(1);
constexpr Duration kCrashAt = Duration::Millis(2500);
constexpr Duration kDowntime = Duration::Millis(500);
constexpr Duration kRunLimit = Duration::Seconds(120);

// Keys of the second output: how many chapters a word appears in.
std::string ChaptersKey(std::string_view word) {
  return std::string(word) + "/chapters";
}

// ---- 1. The job ------------------------------------------------------------------------------

// A record is a key (bytes) and an int64 value. Here a source record's key is a line of text and
// its value the chapter it comes from.

// Per word: the running total (value state) and the occurrences per chapter (map state). For
// every occurrence it emits (word, total); the first time the word shows up in a chapter it also
// emits (word/chapters, number of chapters so far).
//
// Provenance: the engine gives the first record a function emits the input's provenance (the
// source line it came from) and later ones none, so each source record is reflected exactly once
// however many records a function emits. A user function need not touch provenance at all.
class WordTotals final : public faultline::engine::KeyedProcessFunction {
 public:
  void Process(const Record& in, KeyedContext& state, Collector& out) override {
    const int64_t total = state.GetValue("total").value_or(0) + 1;
    state.SetValue("total", total);
    const std::string chapter = "chapter-" + std::to_string(in.value);
    const int64_t in_chapter = state.GetMapEntry("per_chapter", chapter).value_or(0) + 1;
    state.PutMapEntry("per_chapter", chapter, in_chapter);
    out.Emit(Record{state.key(), total, {}});
    if (in_chapter == 1) {
      const auto chapters = static_cast<int64_t>(state.GetMap("per_chapter").size());
      out.Emit(Record{ChaptersKey(state.key()), chapters, {}});
    }
  }
};

std::string Lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// A map returns one record. Provenance is carried over by the engine (a returned record with
// none gets the input's).
Record LowercaseLine(const Record& line) {
  return Record{Lowercase(line.key), line.value, {}};
}

// A filter keeps or drops a record whole. A dropped record's provenance ends here, so the check
// below expects only the lines this filter keeps.
bool HasWords(const Record& line) {
  for (char c : line.key) {
    if (std::isalpha(static_cast<unsigned char>(c))) return true;
  }
  return false;
}

// Splits on anything that is not a letter. Words carry their chapter on; the line's provenance
// goes with its first word.
void SplitWords(const Record& line, Collector& out) {
  std::string word;
  for (size_t i = 0; i <= line.key.size(); ++i) {
    const char c = i < line.key.size() ? line.key[i] : ' ';
    if (std::isalpha(static_cast<unsigned char>(c))) {
      word += c;
    } else if (!word.empty()) {
      out.Emit(Record{word, line.value, {}});
      word.clear();
    }
  }
}

faultline::Result<faultline::engine::JobGraph> BuildJob() {
  using faultline::engine::SinkKind;
  faultline::engine::JobBuilder job("word-totals");
  // Operators joined by forward edges of equal parallelism run in one task (a chain): here
  // lines+lowercase+has-words+split and totals+committed-words, four subtasks each.
  job.Source("lines", {.source_id = 0, .parallelism = kChapters})
      .WithRecordCost(Duration::Millis(2))  // a line every 2 ms per source subtask
      .Map("lowercase", LowercaseLine)
      .Filter("has-words", HasWords)
      .FlatMap("split", SplitWords)
      .KeyBy([](const Record& word) { return word.key; })
      .Process("totals", std::make_shared<WordTotals>())
      .WithRecordCost(Duration::Micros(20))
      .Sink("committed-words", {.kind = SinkKind::kTwoPhaseCommit});
  return job.Build();
}

// ---- 2. The input ----------------------------------------------------------------------------

struct Input {
  uint64_t lines = 0;
  uint64_t blank_lines = 0;
  uint64_t words = 0;
  // The provenance hash of every line the filter keeps: what the output must reflect once.
  std::multiset<uint64_t> expected_ids;
  std::map<std::string, int64_t> totals;              // word -> occurrences
  std::map<std::string, std::set<int64_t>> chapters;  // word -> chapters it appears in
};

// A fixed text (independent of the seed, so every seed checks the same totals): lines of one to
// eight words from a small vocabulary, skewed towards the first words, with mixed case,
// punctuation and the odd blank line.
std::string MakeLine(faultline::Rng& rng) {
  static constexpr std::string_view kVocabulary[] = {
      "the",   "stream", "of",     "barrier", "and",     "state",  "a",      "checkpoint",
      "to",    "is",     "key",    "record",  "in",      "sink",   "commit", "offset",
      "crash", "replay", "source", "group",   "restore", "align",  "epoch",  "snapshot",
      "blob",  "fence",  "task",   "window",  "credit",  "buffer", "latch",  "quorum"};
  constexpr uint64_t kWords = std::size(kVocabulary);
  // draws sequenced: the condition is evaluated before the return.
  if (rng.UniformU64(25) == 0) return rng.Bernoulli(0.5) ? "" : "   ";
  std::string line;
  const uint64_t words = 1 + rng.UniformU64(8);
  for (uint64_t w = 0; w < words; ++w) {
    // The smaller of two draws: low indices are more frequent, as in real text.
    // (Two statements: a call's arguments are evaluated in an order the compiler chooses.)
    const uint64_t first = rng.UniformU64(kWords);
    const uint64_t index = std::min(first, rng.UniformU64(kWords));
    std::string word(kVocabulary[index]);
    if (rng.UniformU64(6) == 0) word[0] = static_cast<char>(std::toupper(word[0]));
    if (!line.empty()) line += rng.UniformU64(7) == 0 ? ", " : " ";
    line += word;
  }
  return line + ".";
}

Input FillSourceLog(faultline::sim::JobWorld& jw) {
  Input input;
  faultline::Rng rng(2024);
  for (uint32_t partition = 0; partition < kChapters; ++partition) {
    const int64_t chapter = partition + 1;
    for (uint64_t offset = 0; offset < kLinesPerChapter; ++offset) {
      const Record line{MakeLine(rng), chapter, {}};
      jw.AddSourceRecord(partition, line);
      ++input.lines;
      if (!HasWords(line)) {
        ++input.blank_lines;
        continue;
      }
      // RecordId (source, partition, offset) is the identity the engine gives the record.
      input.expected_ids.insert(RecordId{0, partition, offset}.Hash());
      // The reference count: the same user functions, applied directly.
      struct Count : Collector {
        Input* into = nullptr;
        int64_t in_chapter = 0;
        void Emit(Record word) override {
          ++into->words;
          ++into->totals[word.key];
          into->chapters[word.key].insert(in_chapter);
        }
      } count;
      count.into = &input;
      count.in_chapter = chapter;
      SplitWords(LowercaseLine(line), count);
    }
  }
  return input;
}

// ---- 3 and 4. The world and the fault --------------------------------------------------------

// Collects the engine's deploy and restart events from the trace. Observing changes nothing:
// the trace hash is the same with or without it.
class RecoveryLog final : public faultline::sim::TraceObserver {
 public:
  void OnRecord(const faultline::sim::TraceRecord& r) override {
    using faultline::engine::EngineEvent;
    // Engine events, their arguments read by name (engine/exec/events.h).
    const std::optional<faultline::sim::EngineEventView> e = faultline::sim::EngineEventOf(r);
    if (!e) return;
    if (e->event == EngineEvent::kJobRestart) {
      lines.push_back("at " + (r.time - Time::Zero()).ToString() + " restart (attempt " +
                      std::to_string(*e->args.attempt) + "): " + r.detail);
    } else if (e->event == EngineEvent::kDeployed && *e->args.restored_checkpoint > 0) {
      lines.push_back("at " + (r.time - Time::Zero()).ToString() + " attempt " +
                      std::to_string(*e->args.attempt) + " deployed, restoring checkpoint " +
                      std::to_string(*e->args.restored_checkpoint));
    }
  }
  std::vector<std::string> lines;
};

// ---- 5. The checks ---------------------------------------------------------------------------

struct Verdict {
  uint64_t reflected = 0;   // committed records that reflect a source line
  uint64_t lost = 0;        // kept lines reflected nowhere
  uint64_t duplicated = 0;  // extra reflections of a line
  uint64_t aggregated = 0;  // committed records reflecting more than one line (none expected)
  uint64_t wrong_totals = 0;
  bool exactly_once() const { return lost == 0 && duplicated == 0 && aggregated == 0; }
};

Verdict Check(const Input& input, const std::vector<Record>& committed,
              std::map<std::string, int64_t>* final_values) {
  Verdict v;
  std::multiset<uint64_t> seen;
  for (const Record& r : committed) {
    (*final_values)[r.key] = r.value;       // running values: the last committed one is the result
    if (r.provenance.count == 0) continue;  // a function's second output: reflects no line
    if (r.provenance.count > 1) ++v.aggregated;
    seen.insert(r.provenance.hash_sum);
    ++v.reflected;
  }
  for (auto it = input.expected_ids.begin(); it != input.expected_ids.end();
       it = input.expected_ids.upper_bound(*it)) {
    const size_t want = input.expected_ids.count(*it);
    const size_t got = seen.count(*it);
    if (got < want) v.lost += want - got;
    if (got > want) v.duplicated += got - want;
  }
  // Reflections of ids that are not expected at all (a blank line, or garbage) are extras too.
  for (auto it = seen.begin(); it != seen.end(); it = seen.upper_bound(*it)) {
    if (input.expected_ids.count(*it) == 0) v.duplicated += seen.count(*it);
  }
  std::map<std::string, int64_t> want;
  for (const auto& [word, total] : input.totals) {
    want[word] = total;
    want[ChaptersKey(word)] = static_cast<int64_t>(input.chapters.at(word).size());
  }
  for (const auto& [key, value] : want) {
    auto it = final_values->find(key);
    if (it == final_values->end() || it->second != value) ++v.wrong_totals;
  }
  v.wrong_totals += final_values->size() > want.size() ? final_values->size() - want.size() : 0;
  return v;
}

std::string TopWords(const std::map<std::string, int64_t>& final_values, size_t n) {
  std::vector<std::pair<int64_t, std::string>> by_total;
  for (const auto& [key, value] : final_values) {
    if (key.find('/') == std::string::npos) by_total.emplace_back(-value, key);
  }
  std::sort(by_total.begin(), by_total.end());
  std::string out;
  for (size_t i = 0; i < by_total.size() && i < n; ++i) {
    const std::string& word = by_total[i].second;
    auto chapters = final_values.find(ChaptersKey(word));
    out += (i == 0 ? "" : ", ") + word + " " + std::to_string(-by_total[i].first);
    if (chapters != final_values.end()) out += " (" + std::to_string(chapters->second) + " ch)";
  }
  return out;
}

struct Args {
  uint64_t seed = 1;
  faultline::engine::TeachingSwitches switches;  // all off: the engine as it should be
  std::string switch_names;
};

// [--seed N] [--switch NAME]...; false on anything else.
bool ParseArgs(int argc, char** argv, Args* args) {
  for (int i = 1; i < argc; i += 2) {
    const std::string_view flag(argv[i]);
    if (i + 1 >= argc) return false;
    const std::string_view value(argv[i + 1]);
    if (flag == "--seed") {
      if (value.empty() || value.size() > 19 ||
          value.find_first_not_of("0123456789") != std::string_view::npos) {
        return false;
      }
      args->seed = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (flag == "--switch") {
      bool known = false;
      for (const faultline::engine::TeachingSwitchInfo& info :
           faultline::engine::kTeachingSwitches) {
        if (info.name != value) continue;
        args->switches.*info.field = true;
        args->switch_names += " --switch " + std::string(value);
        known = true;
      }
      if (!known) return false;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, &args)) {
    std::fprintf(stderr,
                 "usage: %s [--seed N] [--switch NAME]...\n"
                 "  N     decimal seed, below 10^19 (default 1)\n"
                 "  NAME  a teaching switch that plants a known protocol mistake:",
                 argv[0]);
    for (const faultline::engine::TeachingSwitchInfo& info : faultline::engine::kTeachingSwitches) {
      std::fprintf(stderr, " %s", std::string(info.name).c_str());
    }
    std::fprintf(stderr, "\n");
    return 2;
  }
  const uint64_t seed = args.seed;

  // 1. The job, validated by Build().
  faultline::Result<faultline::engine::JobGraph> job = BuildJob();
  if (!job.ok()) {
    std::fprintf(stderr, "word_totals: %s\n", job.status().ToString().c_str());
    return 1;
  }

  // 3. The world: engine settings (exec/config.h) and a simulated cluster.
  faultline::engine::EngineConfig config;
  config.checkpoints.mode = faultline::engine::CheckpointMode::kAligned;
  config.checkpoints.interval = kCheckpointInterval;
  config.switches = args.switches;
  faultline::sim::JobWorldOptions options;
  options.world.seed = seed;
  options.world.trace.keep_records = false;  // the hash covers every record anyway
  options.task_managers = 3;
  options.source_partitions = kChapters;
  auto created = faultline::sim::JobWorld::Create(*job, config, options);
  if (!created.ok()) {  // e.g. a teaching switch whose mechanism this build lacks
    std::fprintf(stderr, "word_totals: %s\n", created.status().ToString().c_str());
    return 2;
  }
  faultline::sim::JobWorld& jw = **created;

  // 2. The input.
  const Input input = FillSourceLog(jw);

  // 4. The fault, scheduled in simulated time.
  const uint32_t victim = jw.task_manager_nodes()[1];
  jw.world().loop().Schedule(Time::Zero() + kCrashAt, [&jw, victim] {
    jw.world().Crash(victim, "example: TaskManager crash");
    jw.world().loop().ScheduleAfter(kDowntime, [&jw, victim] { jw.world().Restart(victim); });
  });

  RecoveryLog recovery;
  jw.world().trace().AddObserver(&recovery);
  jw.Start();
  const faultline::engine::JobStatus status = jw.RunUntilDone(Time::Zero() + kRunLimit);
  jw.world().trace().RemoveObserver(&recovery);

  // 5. The checks, on what the output store committed.
  const std::vector<Record> committed = jw.CommittedOutput();
  std::map<std::string, int64_t> final_values;
  const Verdict verdict = Check(input, committed, &final_values);

  uint32_t completed = 0;
  uint32_t failed = 0;
  uint32_t restarts = 0;
  uint64_t latest = 0;
  if (const faultline::engine::JobManager* jm = jw.job_manager()) {
    for (const faultline::engine::CheckpointStats& c : jm->history()) {
      completed += c.status == faultline::engine::CheckpointStats::Status::kCompleted ? 1 : 0;
      failed += c.status == faultline::engine::CheckpointStats::Status::kFailed ? 1 : 0;
    }
    restarts = jm->restarts();
    latest = jm->latest_completed();
  }

  std::string chains;
  for (const faultline::engine::ChainSpec& chain : jw.setup().plan.chains) {
    chains +=
        (chains.empty() ? "" : " => ") + chain.name + " x" + std::to_string(chain.parallelism);
  }
  const bool held = verdict.exactly_once() && verdict.wrong_totals == 0 &&
                    status == faultline::engine::JobStatus::kFinished;

  std::printf("word_totals, seed %" PRIu64 "%s\n", seed, args.switch_names.c_str());
  std::printf("  job         %s (two-phase-commit sink)\n", chains.c_str());
  std::printf("  cluster     1 JobManager + %u TaskManagers; aligned checkpoints every %s\n",
              options.task_managers, kCheckpointInterval.ToString().c_str());
  std::printf("  fault       %s crashed at %s, restarted %s later\n",
              jw.world().NodeName(victim).c_str(), kCrashAt.ToString().c_str(),
              kDowntime.ToString().c_str());
  std::printf("  input       %" PRIu64 " lines in %u chapters (%" PRIu64
              " blank, dropped by the filter), %" PRIu64 " words\n",
              input.lines, kChapters, input.blank_lines, input.words);
  std::printf("  output      %zu committed records (%" PRIu64
              " reflect a source line), "
              "%zu keys; job %s, %s simulated\n",
              committed.size(), verdict.reflected, final_values.size(),
              std::string(faultline::engine::JobStatusName(status)).c_str(),
              (jw.world().now() - Time::Zero()).ToString().c_str());
  std::printf("  top words   %s\n", TopWords(final_values, 5).c_str());
  std::printf("  checkpoints %u completed, %u failed or aborted; latest completed %" PRIu64 "\n",
              completed, failed, latest);
  std::printf("  restarts    %u\n", restarts);
  for (const std::string& line : recovery.lines) std::printf("              %s\n", line.c_str());
  std::printf("  exactly-once %s: %" PRIu64 " lost, %" PRIu64 " duplicated, %" PRIu64
              " aggregated; %" PRIu64 " wrong totals\n",
              held ? "held" : "BROKEN", verdict.lost, verdict.duplicated, verdict.aggregated,
              verdict.wrong_totals);
  std::printf("  trace       %" PRIu64 " records, hash %016" PRIx64 " (seed %" PRIu64 ")\n",
              jw.world().trace().count(), jw.world().trace().hash(), seed);
  std::printf("  build       %s\n", faultline::BuildIdentity().c_str());
  std::printf("  rerun       example_word_totals --seed %" PRIu64 "%s\n", seed,
              args.switch_names.c_str());
  return held ? 0 : 1;
}
