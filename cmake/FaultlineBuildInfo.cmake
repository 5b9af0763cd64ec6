# Build identity (version, git commit, compiler, build type), regenerated at every build so the
# commit printed beside a trace hash is the one that was built.

set(FAULTLINE_BUILD_INFO_CC "${CMAKE_BINARY_DIR}/generated/build_info.cc")
add_custom_target(faultline_build_info_gen
  BYPRODUCTS "${FAULTLINE_BUILD_INFO_CC}"
  COMMAND "${CMAKE_COMMAND}"
          -DSOURCE_DIR=${CMAKE_SOURCE_DIR}
          -DOUTPUT=${FAULTLINE_BUILD_INFO_CC}
          -DTEMPLATE=${CMAKE_SOURCE_DIR}/cmake/build_info.cc.in
          -DVERSION=${PROJECT_VERSION}
          -DCOMPILER=${CMAKE_CXX_COMPILER_ID}-${CMAKE_CXX_COMPILER_VERSION}
          -DBUILD_TYPE=${CMAKE_BUILD_TYPE}
          -DSANITIZE=${FAULTLINE_SANITIZE}
          -P "${CMAKE_SOURCE_DIR}/cmake/GenerateBuildInfo.cmake"
  COMMENT "Stamping build identity"
  VERBATIM)
