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
  std::string_view kind;   // "map"
  std::string_view field;  // "function", "predicate", "selector"
  std::string name;        // as written; key_by's empty selector is "key"
  bool has_arg_field = true;
  bool has_arg = false;
  int64_t arg = 0;
};

Named NamedOf(const proto::Operator& op) {
  switch (op.kind_case()) {
    case proto::Operator::kMap:
      return {"map", "function", op.map().function(), true, op.map().has_arg(), op.map().arg()};
    case proto::Operator::kFilter:
      return {"filter", "predicate",           op.filter().predicate(),
              true,     op.filter().has_arg(), op.filter().arg()};
    case proto::Operator::kFlatMap:
      return {
          "flat_map",         "function", op.flat_map().function(), true, op.flat_map().has_arg(),
          op.flat_map().arg()};
    case proto::Operator::kKeyBy:
      return {"key_by",
              "selector",
              op.key_by().selector().empty() ? "key" : op.key_by().selector(),
              true,
              op.key_by().has_arg(),
              op.key_by().arg()};
    default:
      return {"aggregate", "function", op.aggregate().function(), false, false, 0};
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
  switch (op.kind_case()) {
    case proto::Operator::kMap:
      return K::kMap;
    case proto::Operator::kFilter:
      return K::kFilter;
    case proto::Operator::kFlatMap:
      return K::kFlatMap;
    case proto::Operator::kKeyBy:
      return K::kKeyBy;
    case proto::Operator::kAggregate:
      return K::kAggregate;
    default:
      return std::nullopt;
  }
}

Check CatalogueFields(const Path& op_path, const proto::Operator& op) {
  const std::optional<CatalogueKind> kind = CatalogueKindOf(op);
  if (!kind) return std::nullopt;
  const Named named = NamedOf(op);
  std::vector<std::string_view> known;
  for (const CatalogueEntry& e : kCatalogue) {
    if (e.kind == *kind) known.push_back(e.name);
  }
  const Path kind_path = At(op_path, std::string(named.kind));
  const Path path = At(kind_path, std::string(named.field));
  if (named.name.empty()) return Fail(path, "missing (known: " + Join(known) + ")");
  const CatalogueEntry* entry = Find(*kind, named.name);
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
  const Named named = NamedOf(op);
  const CatalogueEntry* entry = Find(*CatalogueKindOf(op), named.name);
  FL_ASSERT(entry != nullptr, "a validated operator is in the catalogue");
  entry->add(stream, name, named.arg, parallelism, max_parallelism);
}

}  // namespace faultline::scenarios::internal
