#include "checkers/derived.h"

namespace faultline::checkers {

const SourceIndex& Derived::Index() {
  if (index_ == nullptr) index_ = std::make_unique<SourceIndex>(view_.sources);
  return *index_;
}

const Derived::Replay& Derived::Committed(const HistoryEnd& end) {
  for (const auto& [at, replay] : replays_) {
    if (at.checkpoint_id == end.checkpoint_id && at.attempt == end.attempt) return *replay;
  }
  auto replay = std::make_unique<Replay>();
  ReferenceInput input;
  input.sources.reserve(view_.sources.size());
  for (const SourceRecord& s : view_.sources) input.sources.push_back(s.record);
  if (view_.order != nullptr && !view_.order->overflowed()) {
    replay->orders = OrdersOf(
        *view_.setup, *view_.order, [&end](uint32_t) { return end; },
        /*per_key=*/true, &view_.rescaled_attempts);
    input.order = std::move(replay->orders->order);
  }
  // At-least-once: a history may process a record again after a restore (the state had
  // counted it before a snapshot its barriers did not align): replayed as logged. The
  // exactly-once checkers (EO-OUT, EO-CUT) never run in this mode.
  input.repeats = view_.setup->config.checkpoints.mode == engine::CheckpointMode::kAtLeastOnce;
  replay->result = Reference(view_.setup->job).Run(std::move(input));  // keeps input.order
  if (replay->orders) replay->orders->order = std::move(input.order);
  replays_.emplace_back(end, std::move(replay));
  return *replays_.back().second;
}

const Coverage& Derived::CoverageOfRun() {
  if (coverage_ == nullptr) coverage_ = std::make_unique<Coverage>(CoverageOf(view_, this));
  return *coverage_;
}

}  // namespace faultline::checkers
