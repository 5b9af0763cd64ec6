// 128-bit integers for exact intermediate products (rates, scaled durations). A GCC/Clang
// extension; named here once so -Wpedantic stays quiet everywhere else.
#pragma once

namespace faultline {

__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 Uint128;

}  // namespace faultline
