#include "engine/exec/events.h"

namespace faultline::engine {

std::string_view EventArgName(EventArg arg) {
  switch (arg) {
    case EventArg::kNone:
      return "";
#define FAULTLINE_EVENT_ARG_NAME(e, field) \
  case EventArg::e:                        \
    return #field;
      FAULTLINE_EVENT_ARGS(FAULTLINE_EVENT_ARG_NAME)
#undef FAULTLINE_EVENT_ARG_NAME
  }
  return "";
}

std::optional<int64_t>& EventArgs::Field(EventArg arg) {
  switch (arg) {
#define FAULTLINE_EVENT_ARG_REF(e, field) \
  case EventArg::e:                       \
    return field;
    FAULTLINE_EVENT_ARGS(FAULTLINE_EVENT_ARG_REF)
#undef FAULTLINE_EVENT_ARG_REF
    case EventArg::kNone:
      break;
  }
  FL_ASSERT(false, "EventArgs::Field(kNone)");
  return checkpoint;  // not reached
}

const std::optional<int64_t>& EventArgs::Field(EventArg arg) const {
  return const_cast<EventArgs*>(this)->Field(arg);
}

runtime::EngineEvent MakeEvent(EngineEvent event, std::string_view detail, const EventArgs& args) {
  const EngineEventInfo& info = InfoOf(event);
  runtime::EngineEvent out;
  out.kind = static_cast<int64_t>(event);
  out.detail = detail;
  size_t carried = 0;
  for (size_t slot = 0; slot < info.args.size(); ++slot) {
    if (info.args[slot] == EventArg::kNone) continue;
    const std::optional<int64_t>& value = args.Field(info.args[slot]);
    FL_ASSERT(value.has_value(), "an engine event without one of its arguments");
    out.args[slot] = *value;
    ++carried;
  }
  // Every argument given is one the event carries (none is silently dropped).
  size_t given = 0;
#define FAULTLINE_EVENT_ARG_COUNT(e, field) given += args.field.has_value() ? size_t{1} : size_t{0};
  FAULTLINE_EVENT_ARGS(FAULTLINE_EVENT_ARG_COUNT)
#undef FAULTLINE_EVENT_ARG_COUNT
  FL_ASSERT(given == carried, "an engine event given an argument its table row does not name");
  return out;
}

EventArgs ReadEventArgs(EngineEvent event, const int64_t (&slots)[3]) {
  return ReadEventArgs(event, slots[0], slots[1], slots[2]);
}

EventArgs ReadEventArgs(EngineEvent event, int64_t a, int64_t b, int64_t c) {
  const EngineEventInfo* info = FindEngineEvent(static_cast<int64_t>(event));
  EventArgs args;
  if (info == nullptr) return args;
  const int64_t values[3] = {a, b, c};
  for (size_t slot = 0; slot < info->args.size(); ++slot) {
    if (info->args[slot] != EventArg::kNone) args.Field(info->args[slot]) = values[slot];
  }
  return args;
}

}  // namespace faultline::engine
