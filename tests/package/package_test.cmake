# Run by PackageTest (cmake -P). Fails on the first step that fails.
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "PackageTest: ${what} failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "PackageTest: ${what}: ok")
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

step("cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
foreach(f lib/cmake/Ballot/BallotConfig.cmake lib/cmake/Ballot/BallotConfigVersion.cmake
          include/runtime/client/client.hpp include/schemas/client.capnp
          include/schemas/client.capnp.h)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "PackageTest: ${f} is not installed")
  endif()
endforeach()

set(launcher)
if(LAUNCHER)
  set(launcher -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER})
endif()
step("configure the consumer" ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/package/consumer
     -B ${WORK_DIR}/build -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${prefix}
     -DBALLOT_EXAMPLES_DIR=${SOURCE_DIR}/examples ${launcher})
step("build the consumer" ${CMAKE_COMMAND} --build ${WORK_DIR}/build -j2)
step("run client_only" ${WORK_DIR}/build/client_only)
step("run consumer" ${WORK_DIR}/build/consumer ${WORK_DIR}/data)
message(STATUS "${step_output}")
step("run kv_client_example" ${WORK_DIR}/build/kv_client_example)
step("run lock_client_example" ${WORK_DIR}/build/lock_client_example)
file(REMOVE_RECURSE ${WORK_DIR})
