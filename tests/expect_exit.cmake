# cmake -DCOMMAND=... -DARGS=a;b -DEXPECT_EXIT=n -P expect_exit.cmake
# Runs COMMAND ARGS and fails unless it exits with EXPECT_EXIT and prints an error message
# (unless -DALLOW_SILENT=1).
execute_process(COMMAND ${COMMAND} ${ARGS} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
if(NOT rc EQUAL EXPECT_EXIT)
  message(FATAL_ERROR "'${ARGS}': exit ${rc}, expected ${EXPECT_EXIT}\nstdout: ${out}\nstderr: ${err}")
endif()
if(err STREQUAL "" AND NOT ALLOW_SILENT)
  message(FATAL_ERROR "'${ARGS}': exit ${rc} without a message on stderr")
endif()
message(STATUS "'${ARGS}': exit ${rc}: ${err}")
