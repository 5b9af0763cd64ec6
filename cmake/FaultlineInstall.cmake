# `cmake --install build/release --prefix P` lays out what a user's own CMake project needs to
# test its job with faultline's harness (docs/property_tests.md, "Your own project"):
#   P/include/faultline/harness.h      <faultline/harness.h>, and the headers it includes
#   P/include/faultline/<folder>/*.h   (base/, engine/, ..., search/, the generated *.pb.h)
#   P/lib/libfaultline_*.a             the static libraries the harness links
#   P/lib/cmake/faultline/             faultlineConfig.cmake: find_package(faultline) gives
#                                      faultline::harness
set(FAULTLINE_INSTALLED_LIBS
  faultline_harness faultline_search faultline_scenario_runner faultline_scenarios
  faultline_scenario_proto faultline_faults faultline_checkers faultline_simulator
  faultline_rocksdb_state faultline_engine faultline_engine_proto faultline_base)
install(TARGETS ${FAULTLINE_INSTALLED_LIBS} ARCHIVE DESTINATION lib COMPONENT harness)
install(DIRECTORY base engine simulator checkers scenarios faults search
  DESTINATION include/faultline COMPONENT harness FILES_MATCHING PATTERN "*.h"
  PATTERN "testdata" EXCLUDE)
install(FILES ${PROJECT_BINARY_DIR}/generated_proto/scenarios/scenario.pb.h
  DESTINATION include/faultline/scenarios COMPONENT harness)
install(FILES ${PROJECT_BINARY_DIR}/generated_proto/engine/proto/checkpoint.pb.h
  DESTINATION include/faultline/engine/proto COMPONENT harness)
install(FILES search/harness.h DESTINATION include/faultline COMPONENT harness)

# The link order of the static libraries (each before what it uses).
set(FAULTLINE_INSTALLED_LIB_FILES "")
foreach(lib ${FAULTLINE_INSTALLED_LIBS})
  list(APPEND FAULTLINE_INSTALLED_LIB_FILES "lib${lib}.a")
endforeach()
configure_file(${PROJECT_SOURCE_DIR}/cmake/faultlineConfig.cmake.in
  ${PROJECT_BINARY_DIR}/faultlineConfig.cmake @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/faultlineConfig.cmake
  DESTINATION lib/cmake/faultline COMPONENT harness)
