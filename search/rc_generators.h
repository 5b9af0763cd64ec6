// RapidCheck generators of scenarios (search/generators.h has the plain values they generate and
// the conversion to proto::Scenario). This header includes <rapidcheck.h>: include it only in
// property tests and the harness's implementation, not in headers other code includes.
//
//   RC_GTEST_PROP(MyJob, Holds, ()) {
//     const auto c = *search::gen::Case({});
//     ... search::ToScenario(c, "case") ...
//   }
//
// Every generator shrinks towards a smaller case: fewer operators and lower parallelism, fewer
// records and keys, fewer fault entries with smaller parameters, no nemesis.
#pragma once

#include <rapidcheck.h>

#include <cstddef>
#include <ostream>
#include <vector>

#include "search/generators.h"

namespace faultline::search::gen {

rc::Gen<GenOperator> Operator();
rc::Gen<GenJob> Job();
rc::Gen<GenWorkload> Workload();
rc::Gen<GenWorld> World();
rc::Gen<GenCheckpointing> Checkpointing();
rc::Gen<GenTrigger> Trigger();
rc::Gen<GenFault> Fault();
// Between 1 and max_faults entries (max_faults 0: none); shrinks by removing any of them.
rc::Gen<std::vector<GenFault>> FaultPlan(uint32_t max_faults);
rc::Gen<GenNemesis> Nemesis();
// A whole case. With options.nemesis off, no case has a nemesis.
rc::Gen<GeneratedCase> Case(const GenerateOptions& options);

// A list of the given elements, shrinking by removing any chunk of them (down to `min`) and then
// by shrinking each element.
template <typename T>
rc::Shrinkable<std::vector<T>> ShrinkingList(std::vector<rc::Shrinkable<T>> elements, size_t min) {
  using Elements = std::vector<rc::Shrinkable<T>>;
  const auto shrinks = [min](const Elements& e) {
    return rc::seq::concat(
        rc::seq::filter(rc::shrink::removeChunks(e),
                        [min](const Elements& x) { return x.size() >= min; }),
        rc::shrink::eachElement(e, [](const rc::Shrinkable<T>& s) { return s.shrinks(); }));
  };
  return rc::shrinkable::map(rc::shrinkable::shrinkRecur(std::move(elements), shrinks),
                             [](const Elements& e) {
                               std::vector<T> out;
                               out.reserve(e.size());
                               for (const rc::Shrinkable<T>& s : e) out.push_back(s.value());
                               return out;
                             });
}

// A list of min..max elements (uniform, whatever the size), shrinking as ShrinkingList.
template <typename T>
rc::Gen<std::vector<T>> BoundedList(size_t min, size_t max, rc::Gen<T> element) {
  return rc::Gen<std::vector<T>>([=](const rc::Random& random, int size) {
    rc::Random r = random;
    const size_t count = min + static_cast<size_t>(r.split().next() % (max - min + 1));
    std::vector<rc::Shrinkable<T>> elements;
    for (size_t i = 0; i < count; ++i) elements.push_back(element(r.split(), size));
    return ShrinkingList(std::move(elements), min);
  });
}

}  // namespace faultline::search::gen

namespace faultline::search {

// How RapidCheck prints a counterexample: the one-line summary and the scenario's textproto.
void showValue(const GeneratedCase& c, std::ostream& os);

}  // namespace faultline::search
