# Script mode: writes OUTPUT from TEMPLATE, only when the content changed (no needless relinks).
set(GIT_COMMIT "unknown")
find_program(GIT git)
if(GIT AND EXISTS "${SOURCE_DIR}/.git")
  execute_process(COMMAND "${GIT}" -C "${SOURCE_DIR}" rev-parse --short=12 HEAD
                  OUTPUT_VARIABLE commit RESULT_VARIABLE rc ERROR_QUIET
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(rc EQUAL 0)
    set(GIT_COMMIT "${commit}")
    execute_process(COMMAND "${GIT}" -C "${SOURCE_DIR}" status --porcelain --untracked-files=no
                    OUTPUT_VARIABLE dirty ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT dirty STREQUAL "")
      string(APPEND GIT_COMMIT "-dirty")
    endif()
  endif()
endif()
if(SANITIZE)
  set(BUILD_TYPE "${BUILD_TYPE}+asan+ubsan")
endif()
configure_file("${TEMPLATE}" "${OUTPUT}.tmp" @ONLY)
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
