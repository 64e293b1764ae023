# Every dependency comes from Debian's archive (scripts/setup.sh installs them).
find_package(fmt REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(OpenMP REQUIRED)

# The F32 GEMM behind backend/cpu/gemm.cpp: oneDNN (docs/decisions.md).
find_path(SDNC_DNNL_INCLUDE dnnl.h)
find_library(SDNC_DNNL_LIB NAMES dnnl)
if(NOT SDNC_DNNL_INCLUDE OR NOT SDNC_DNNL_LIB)
  message(FATAL_ERROR "oneDNN not found: run scripts/setup.sh (installs libdnnl-dev)")
endif()
add_library(sdnc_blas INTERFACE)
target_include_directories(sdnc_blas INTERFACE ${SDNC_DNNL_INCLUDE})
target_link_libraries(sdnc_blas INTERFACE ${SDNC_DNNL_LIB})

# PNG encoding (viz/png_writer.cpp) and decoding in tests: stb from libstb-dev, which ships the
# headers under <stb/...> and the compiled implementations as libstb.
find_path(SDNC_STB_INCLUDE stb/stb_image_write.h)
find_library(SDNC_STB_LIB NAMES stb)
if(NOT SDNC_STB_INCLUDE OR NOT SDNC_STB_LIB)
  message(FATAL_ERROR "stb not found: run scripts/setup.sh (installs libstb-dev)")
endif()
add_library(sdnc_stb INTERFACE)
target_include_directories(sdnc_stb INTERFACE ${SDNC_STB_INCLUDE})
target_link_libraries(sdnc_stb INTERFACE ${SDNC_STB_LIB})
