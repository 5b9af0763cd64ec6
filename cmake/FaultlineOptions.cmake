# Compiler settings shared by every faultline target.

if(NOT CMAKE_CXX_COMPILER_LAUNCHER)
  find_program(FAULTLINE_CCACHE ccache)
  if(FAULTLINE_CCACHE)
    set(CMAKE_CXX_COMPILER_LAUNCHER "${FAULTLINE_CCACHE}")
    set(CMAKE_C_COMPILER_LAUNCHER "${FAULTLINE_CCACHE}")
  endif()
endif()

add_library(faultline_warnings INTERFACE)
target_compile_options(faultline_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wconversion -Wsign-conversion -Wdouble-promotion
  -Wformat=2 -Wimplicit-fallthrough
  # Options structs are filled with designated initialisers; omitted fields keep defaults.
  -Wno-missing-field-initializers)
if(FAULTLINE_WERROR)
  target_compile_options(faultline_warnings INTERFACE -Werror)
endif()

# Paths in debug info and __FILE__ relative to the source root, so ccache hits across clones.
add_compile_options(
  "-ffile-prefix-map=${CMAKE_SOURCE_DIR}/=" "-fdebug-prefix-map=${CMAKE_SOURCE_DIR}/=")

if(FAULTLINE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

if(FAULTLINE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "FAULTLINE_FUZZ needs clang with libFuzzer (scripts/fuzz.sh sets it up)")
  endif()
  # Coverage instrumentation for libFuzzer in every target; the fuzz binaries link the fuzzer.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# faultline_test(NAME name SOURCES ... DEPS ...): one GoogleTest binary, its tests visible to CTest.
# faultline_test(NAME n SOURCES ... DEPS ... [SCENARIO_LIBRARY]): a GoogleTest executable whose
# tests ctest discovers. SCENARIO_LIBRARY defines FAULTLINE_SCENARIO_LIBRARY_DIR, the path of
# scenarios/library, for tests that run the library's scenarios.
function(faultline_test)
  cmake_parse_arguments(ARG "SCENARIO_LIBRARY" "NAME" "SOURCES;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main
                                            faultline_warnings)
  if(ARG_SCENARIO_LIBRARY)
    target_compile_definitions(${ARG_NAME} PRIVATE
      FAULTLINE_SCENARIO_LIBRARY_DIR="${PROJECT_SOURCE_DIR}/scenarios/library")
  endif()
  gtest_discover_tests(${ARG_NAME} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 600)
endfunction()
