#!/usr/bin/env bash
# check_engine_symbols.sh LIBRARY: fails if the library's undefined symbols include any way to
# reach the OS clock, threads, sleeping, files, sockets or OS randomness. The engine reaches
# the world only through engine/runtime/ interfaces (ARCHITECTURE.md), so it runs unchanged on
# the simulator and on a real runtime.
set -euo pipefail
lib=${1:?usage: check_engine_symbols.sh LIBRARY}
[ -f "$lib" ] || { echo "no such library: $lib" >&2; exit 2; }

forbidden_c='^(time|clock|clock_gettime|gettimeofday|ftime|timespec_get|pthread_create|pthread_join|thrd_create|fork|sleep|usleep|nanosleep|fopen|fopen64|freopen|open|open64|openat|creat|opendir|socket|rand|srand|random|getrandom|getentropy|arc4random)(@.*)?$'
# Demangled C++: clocks, threads, sleeping, file streams, random_device.
forbidden_cxx='std::chrono::(_V2::)?(system_clock|steady_clock|high_resolution_clock)::now|std::thread::|std::this_thread::|std::random_device|std::basic_(i|o)?fstream|std::filesystem::'

undefined=$(nm -u --format=posix "$lib" | awk '{print $1}' | sort -u)
bad_c=$(printf '%s\n' "$undefined" | grep -E "$forbidden_c" || true)
bad_cxx=$(printf '%s\n' "$undefined" | c++filt | grep -E "$forbidden_cxx" || true)
if [ -n "$bad_c$bad_cxx" ]; then
  echo "$lib reaches the OS directly; use engine/runtime interfaces instead:" >&2
  printf '%s\n' $bad_c >&2
  printf '%s\n' "$bad_cxx" | sed '/^$/d' >&2
  exit 1
fi
echo "$lib: $(printf '%s\n' "$undefined" | wc -l) undefined symbols, none forbidden"
