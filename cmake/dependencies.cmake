# Every dependency comes from Debian's archive (scripts/setup.sh installs them).
find_package(fmt REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(OpenMP REQUIRED)

# The GEMMs behind backend/cpu/gemm.cpp (docs/decisions.md): oneDNN's sgemm for F32,
# OpenBLAS's dgemm for the F64 test path.
find_path(SDNC_DNNL_INCLUDE dnnl.h)
find_library(SDNC_DNNL_LIB NAMES dnnl)
if(NOT SDNC_DNNL_INCLUDE OR NOT SDNC_DNNL_LIB)
  message(FATAL_ERROR "oneDNN not found: run scripts/setup.sh (installs libdnnl-dev)")
endif()
find_path(SDNC_CBLAS_INCLUDE cblas.h PATHS /usr/include/x86_64-linux-gnu/openblas-pthread /usr/include/openblas NO_DEFAULT_PATH)
find_library(SDNC_OPENBLAS_LIB NAMES openblas PATHS /usr/lib/x86_64-linux-gnu/openblas-pthread NO_DEFAULT_PATH)
if(NOT SDNC_CBLAS_INCLUDE OR NOT SDNC_OPENBLAS_LIB)
  message(FATAL_ERROR "OpenBLAS not found: run scripts/setup.sh (installs libopenblas-pthread-dev)")
endif()
add_library(sdnc_blas INTERFACE)
target_include_directories(sdnc_blas INTERFACE ${SDNC_CBLAS_INCLUDE} ${SDNC_DNNL_INCLUDE})
target_link_libraries(sdnc_blas INTERFACE ${SDNC_OPENBLAS_LIB} ${SDNC_DNNL_LIB})
