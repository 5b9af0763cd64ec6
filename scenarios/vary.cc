// Per-seed variation: one table row per `vary` list, each row knowing how to put its candidate in
// place of the setting it replaces. Validation (ValidateVary) puts each candidate in place alone
// and validates the result, so a candidate obeys every rule the setting itself obeys.
#include "scenarios/vary.h"

#include <array>
#include <string>

#include "base/rng.h"
#include "scenarios/loader.h"
#include "scenarios/passes.h"

namespace faultline::scenarios {
namespace {

struct VaryField {
  const char* name;  // the field of `vary`
  int (*size)(const proto::Vary& v);
  // Puts candidate i in place in `s`; answers the candidate in words.
  std::string (*apply)(const proto::Vary& v, int i, proto::Scenario* s);
};

std::string Word(uint32_t n) {
  return std::to_string(n);
}

constexpr std::array<VaryField, 8> kFields{{
    {"max_concurrent", [](const proto::Vary& v) { return v.max_concurrent_size(); },
     [](const proto::Vary& v, int i, proto::Scenario* s) {
       s->mutable_checkpointing()->set_max_concurrent(v.max_concurrent(i));
       return Word(v.max_concurrent(i));
     }},
    {"retained", [](const proto::Vary& v) { return v.retained_size(); },
     [](const proto::Vary& v, int i, proto::Scenario* s) {
       s->mutable_checkpointing()->set_retained(v.retained(i));
       return Word(v.retained(i));
     }},
    {"on_unreadable", [](const proto::Vary& v) { return v.on_unreadable_size(); },
     [](const proto::Vary& v, int i, proto::Scenario* s) {
       const auto policy = static_cast<proto::Checkpointing::UnreadablePolicy>(v.on_unreadable(i));
       s->mutable_checkpointing()->set_on_unreadable(policy);
       return proto::Checkpointing::UnreadablePolicy_IsValid(policy)
                  ? proto::Checkpointing::UnreadablePolicy_Name(policy)
                  : std::to_string(v.on_unreadable(i));
     }},
    {"interval", [](const proto::Vary& v) { return v.interval_size(); },
     [](const proto::Vary& v, int i, proto::Scenario* s) {
       s->mutable_checkpointing()->set_interval(v.interval(i));
       return v.interval(i);
     }},
    {"timeout", [](const proto::Vary& v) { return v.timeout_size(); },
     [](const proto::Vary& v, int i, proto::Scenario* s) {
       s->mutable_checkpointing()->set_timeout(v.timeout(i));
       return v.timeout(i);
     }},
    {"aligned_checkpoint_timeout",
     [](const proto::Vary& v) { return v.aligned_checkpoint_timeout_size(); },
     [](const proto::Vary& v, int i, proto::Scenario* s) {
       const std::string& t = v.aligned_checkpoint_timeout(i);
       s->mutable_checkpointing()->set_aligned_checkpoint_timeout(t == "off" ? "" : t);
       return t;
     }},
    {"channel_credits", [](const proto::Vary& v) { return v.channel_credits_size(); },
     [](const proto::Vary& v, int i, proto::Scenario* s) {
       s->mutable_network()->set_channel_credits(v.channel_credits(i));
       return Word(v.channel_credits(i));
     }},
    {"min_pause", [](const proto::Vary& v) { return v.min_pause_size(); },
     [](const proto::Vary& v, int i, proto::Scenario* s) {
       s->mutable_checkpointing()->set_min_pause(v.min_pause(i));
       return v.min_pause(i);
     }},
}};

}  // namespace

Varied ApplyVary(const proto::Scenario& spec, uint64_t seed) {
  Varied out{spec, {}};
  out.spec.clear_vary();
  if (!spec.has_vary()) return out;
  Rng rng = Rng(seed).Fork("scenario/vary");
  for (const VaryField& f : kFields) {
    const int n = f.size(spec.vary());
    if (n == 0) continue;
    const int i = static_cast<int>(rng.UniformU64(static_cast<uint64_t>(n)));
    const std::string word = f.apply(spec.vary(), i, &out.spec);
    out.drawn += (out.drawn.empty() ? "" : ", ") + std::string(f.name) + " " + word;
  }
  return out;
}

namespace internal {

Check ValidateVary(const proto::Scenario& s) {
  if (!s.has_vary()) return std::nullopt;
  proto::Scenario plain = s;
  plain.clear_vary();
  for (const VaryField& f : kFields) {
    for (int i = 0; i < f.size(s.vary()); ++i) {
      proto::Scenario one = plain;
      f.apply(s.vary(), i, &one);
      const Status status = ValidateScenario(one);
      if (!status.ok()) {
        return Fail({{"vary", -1}, {f.name, i}},
                    "in place of the setting it varies: " + std::string(status.message()));
      }
    }
  }
  return std::nullopt;
}

}  // namespace internal
}  // namespace faultline::scenarios
