#include "scenarios/operators.h"

#include <algorithm>
#include <array>
#include <limits>
#include <memory>

#include "base/assert.h"
#include "base/text.h"

namespace faultline::scenarios::internal {
namespace {

constexpr int64_t kAnyMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kAnyMax = std::numeric_limits<int64_t>::max();

int64_t WrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
int64_t WrapMul(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
}

class RunningSumFn final : public engine::KeyedProcessFunction {
 public:
  explicit RunningSumFn(bool count) : count_(count) {}
  void Process(const engine::Record& in, engine::KeyedContext& state,
               engine::Collector& out) override {
    const int64_t sum = WrapAdd(state.GetValue("sum").value_or(0), in.value);
    state.SetValue("sum", sum);
    if (count_) state.AddToReducing("count", 1);
    out.Emit(engine::Record{in.key, sum, {}});
  }

 private:
  const bool count_;
};

class CountFn final : public engine::KeyedProcessFunction {
 public:
  void Process(const engine::Record& in, engine::KeyedContext& state,
               engine::Collector& out) override {
    const int64_t count = WrapAdd(state.GetValue("count").value_or(0), 1);
    state.SetValue("count", count);
    out.Emit(engine::Record{in.key, count, {}});
  }
};

class ExtremeFn final : public engine::KeyedProcessFunction {
 public:
  explicit ExtremeFn(bool max) : max_(max) {}
  void Process(const engine::Record& in, engine::KeyedContext& state,
               engine::Collector& out) override {
    const std::string_view name = max_ ? "max" : "min";
    const std::optional<int64_t> old = state.GetValue(name);
    int64_t v = in.value;
    if (old) v = max_ ? std::max(*old, v) : std::min(*old, v);
    state.SetValue(name, v);
    out.Emit(engine::Record{in.key, v, {}});
  }

 private:
  const bool max_;
};

using engine::Record;

void AddMap(engine::DataStream& s, const std::string& name, uint32_t parallelism,
            engine::MapFn map) {
  s.Map(name, std::move(map), parallelism);
}

void AddFilter(engine::DataStream& s, const std::string& name, uint32_t parallelism,
               engine::FilterFn filter) {
  s.Filter(name, std::move(filter), parallelism);
}

void AddFanOut(engine::DataStream& s, const std::string& name, int64_t copies, uint32_t parallelism,
               bool fan_out) {
  s.FlatMap(
      name,
      [fan_out, copies](const Record& in, engine::Collector& out) {
        for (int64_t c = 0; c < copies; ++c) {
          out.Emit(Record{fan_out ? in.key + "/" + std::to_string(c) : in.key, in.value, {}});
        }
      },
      parallelism);
}

void AddAggregate(engine::DataStream& s, const std::string& name, uint32_t parallelism,
                  uint32_t max_parallelism, std::shared_ptr<engine::KeyedProcessFunction> f) {
  s.Process(name, std::move(f), parallelism, max_parallelism);
}

using K = CatalogueKind;

const std::array<CatalogueEntry, 18> kCatalogue = {{
    {K::kMap, "identity", false, 0, 0,
     [](engine::DataStream& s, const std::string& n, int64_t, uint32_t p, uint32_t) {
       AddMap(s, n, p, [](const Record& in) { return Record{in.key, in.value, {}}; });
     }},
    {K::kMap, "double", false, 0, 0,
     [](engine::DataStream& s, const std::string& n, int64_t, uint32_t p, uint32_t) {
       AddMap(s, n, p, [](const Record& in) { return Record{in.key, WrapMul(in.value, 2), {}}; });
     }},
    {K::kMap, "negate", false, 0, 0,
     [](engine::DataStream& s, const std::string& n, int64_t, uint32_t p, uint32_t) {
       AddMap(s, n, p, [](const Record& in) { return Record{in.key, WrapMul(in.value, -1), {}}; });
     }},
    {K::kMap, "add", true, kAnyMin, kAnyMax,
     [](engine::DataStream& s, const std::string& n, int64_t arg, uint32_t p, uint32_t) {
       AddMap(s, n, p, [arg](const Record& in) {
         return Record{in.key, WrapAdd(in.value, arg), {}};
       });
     }},
    {K::kMap, "multiply", true, kAnyMin, kAnyMax,
     [](engine::DataStream& s, const std::string& n, int64_t arg, uint32_t p, uint32_t) {
       AddMap(s, n, p, [arg](const Record& in) {
         return Record{in.key, WrapMul(in.value, arg), {}};
       });
     }},
    {K::kFilter, "even-value", false, 0, 0,
     [](engine::DataStream& s, const std::string& n, int64_t, uint32_t p, uint32_t) {
       AddFilter(s, n, p, [](const Record& in) { return in.value % 2 == 0; });
     }},
    {K::kFilter, "odd-value", false, 0, 0,
     [](engine::DataStream& s, const std::string& n, int64_t, uint32_t p, uint32_t) {
       AddFilter(s, n, p, [](const Record& in) { return in.value % 2 != 0; });
     }},
    {K::kFilter, "value-at-least", true, kAnyMin, kAnyMax,
     [](engine::DataStream& s, const std::string& n, int64_t arg, uint32_t p, uint32_t) {
       AddFilter(s, n, p, [arg](const Record& in) { return in.value >= arg; });
     }},
    {K::kFilter, "value-below", true, kAnyMin, kAnyMax,
     [](engine::DataStream& s, const std::string& n, int64_t arg, uint32_t p, uint32_t) {
       AddFilter(s, n, p, [arg](const Record& in) { return in.value < arg; });
     }},
    {K::kFlatMap, "repeat", true, 1, kMaxFanOut,
     [](engine::DataStream& s, const std::string& n, int64_t arg, uint32_t p, uint32_t) {
       AddFanOut(s, n, arg, p, /*fan_out=*/false);
     }},
    {K::kFlatMap, "fan-out-keys", true, 1, kMaxFanOut,
     [](engine::DataStream& s, const std::string& n, int64_t arg, uint32_t p, uint32_t) {
       AddFanOut(s, n, arg, p, /*fan_out=*/true);
     }},
    {K::kKeyBy, "key", false, 0, 0,
     [](engine::DataStream& s, const std::string&, int64_t, uint32_t, uint32_t) {
       s.KeyBy([](const Record& in) { return in.key; });
     }},
    {K::kKeyBy, "value-mod", true, 1, kMaxValueModulus,
     [](engine::DataStream& s, const std::string&, int64_t m, uint32_t, uint32_t) {
       s.KeyBy([m](const Record& in) { return "v" + std::to_string(((in.value % m) + m) % m); });
     }},
    {K::kAggregate, "running-sum", false, 0, 0,
     [](engine::DataStream& s, const std::string& n, int64_t, uint32_t p, uint32_t mp) {
       AddAggregate(s, n, p, mp, std::make_shared<RunningSumFn>(false));
     }},
    {K::kAggregate, "running-sum-and-count", false, 0, 0,
     [](engine::DataStream& s, const std::string& n, int64_t, uint32_t p, uint32_t mp) {
       AddAggregate(s, n, p, mp, std::make_shared<RunningSumFn>(true));
     }},
    {K::kAggregate, "count", false, 0, 0,
     [](engine::DataStream& s, const std::string& n, int64_t, uint32_t p, uint32_t mp) {
       AddAggregate(s, n, p, mp, std::make_shared<CountFn>());
     }},
    {K::kAggregate, "max", false, 0, 0,
     [](engine::DataStream& s, const std::string& n, int64_t, uint32_t p, uint32_t mp) {
       AddAggregate(s, n, p, mp, std::make_shared<ExtremeFn>(true));
     }},
    {K::kAggregate, "min", false, 0, 0,
     [](engine::DataStream& s, const std::string& n, int64_t, uint32_t p, uint32_t mp) {
       AddAggregate(s, n, p, mp, std::make_shared<ExtremeFn>(false));
     }},
}};

// How an operator of a catalogue kind names its function in the schema.
struct Named {
  CatalogueKind catalogue_kind;
  std::string_view kind;   // "map"
  std::string_view field;  // "function", "predicate", "selector"
  std::string name;        // as written; key_by's empty selector is "key"
  bool has_arg_field = true;
  bool has_arg = false;
  int64_t arg = 0;
};

// nullopt for sources and sinks.
std::optional<Named> NamedOf(const proto::Operator& op) {
  switch (op.kind_case()) {
    case proto::Operator::kMap: {
      const proto::Map& m = op.map();
      return Named{K::kMap, "map", "function", m.function(), true, m.has_arg(), m.arg()};
    }
    case proto::Operator::kFilter: {
      const proto::Filter& f = op.filter();
      return Named{K::kFilter, "filter", "predicate", f.predicate(), true, f.has_arg(), f.arg()};
    }
    case proto::Operator::kFlatMap: {
      const proto::FlatMap& f = op.flat_map();
      return Named{K::kFlatMap, "flat_map", "function", f.function(), true, f.has_arg(), f.arg()};
    }
    case proto::Operator::kKeyBy: {
      const proto::KeyBy& k = op.key_by();
      const std::string selector = k.selector().empty() ? "key" : k.selector();
      return Named{K::kKeyBy, "key_by", "selector", selector, true, k.has_arg(), k.arg()};
    }
    case proto::Operator::kAggregate:
      return Named{K::kAggregate, "aggregate", "function", op.aggregate().function(), false};
    default:
      return std::nullopt;
  }
}

const CatalogueEntry* Find(CatalogueKind kind, std::string_view name) {
  for (const CatalogueEntry& e : kCatalogue) {
    if (e.kind == kind && e.name == name) return &e;
  }
  return nullptr;
}

}  // namespace

std::span<const CatalogueEntry> Catalogue() {
  return kCatalogue;
}

std::optional<CatalogueKind> CatalogueKindOf(const proto::Operator& op) {
  const std::optional<Named> named = NamedOf(op);
  if (!named) return std::nullopt;
  return named->catalogue_kind;
}

Check CatalogueFields(const Path& op_path, const proto::Operator& op) {
  const std::optional<Named> found = NamedOf(op);
  if (!found) return std::nullopt;
  const Named& named = *found;
  const CatalogueKind kind = named.catalogue_kind;
  std::vector<std::string_view> known;
  for (const CatalogueEntry& e : kCatalogue) {
    if (e.kind == kind) known.push_back(e.name);
  }
  const Path kind_path = At(op_path, std::string(named.kind));
  const Path path = At(kind_path, std::string(named.field));
  if (named.name.empty()) return Fail(path, "missing (known: " + Join(known) + ")");
  const CatalogueEntry* entry = Find(kind, named.name);
  if (entry == nullptr) {
    return Fail(path, "unknown " + std::string(named.kind) + " " + std::string(named.field) + " " +
                          Quote(named.name) + " (known: " + Join(known) + ")");
  }
  if (!named.has_arg_field) return std::nullopt;
  const Path arg_path = At(kind_path, "arg");
  if (entry->takes_arg && !named.has_arg) {
    return Fail(arg_path, "missing: " + std::string(entry->name) + " needs an arg");
  }
  if (!entry->takes_arg && named.has_arg) {
    return Fail(arg_path, std::string(entry->name) + " takes no arg");
  }
  return InRange(arg_path, named.has_arg, named.arg, entry->arg_min, entry->arg_max);
}

void AddCatalogueOperator(engine::DataStream& stream, const proto::Operator& op,
                          const std::string& name, uint32_t parallelism, uint32_t max_parallelism) {
  const std::optional<Named> named = NamedOf(op);
  FL_ASSERT(named.has_value(), "a catalogue operator");
  const CatalogueEntry* entry = Find(named->catalogue_kind, named->name);
  FL_ASSERT(entry != nullptr, "a validated operator is in the catalogue");
  entry->add(stream, name, named->arg, parallelism, max_parallelism);
}

}  // namespace faultline::scenarios::internal
