// Deliberately breaks the engine's rule (it reads the wall clock and opens a file), so the
// symbol check is proven to fail on what it must catch. Never linked into anything.
#include <chrono>
#include <cstdio>

long EngineSymbolsBadNow() {
  return static_cast<long>(std::chrono::steady_clock::now().time_since_epoch().count());
}

void* EngineSymbolsBadOpen() {
  return std::fopen("/tmp/x", "r");
}
