# Every dependency comes from a Debian package (scripts/setup.sh installs them).
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(GDAL CONFIG REQUIRED)
find_package(GEOS CONFIG REQUIRED)
# HL: the dimension scales (H5DS) that make our HDF5 outputs netCDF-4 files (DESIGN §7).
find_package(HDF5 REQUIRED COMPONENTS C HL)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(ZLIB REQUIRED)
find_package(BZip2 REQUIRED)
find_package(EXPAT REQUIRED)
find_package(Threads REQUIRED)
# libzip reads and writes numpy .npz archives (zip of .npy members): a well-kept zip library does
# this better than code of ours would. nanoflann gives the k-d tree of nearest-station search.
# (Debian's libzip CMake config imports the zipcmp/zipmerge tools of another package, so the
# library is found directly.)
find_path(LIBZIP_INCLUDE_DIR zip.h REQUIRED)
find_library(LIBZIP_LIBRARY zip REQUIRED)
find_package(nanoflann CONFIG REQUIRED)
# Eigen (header-only) solves the ridge regression of the predictive score (eval/synthetic_scores).
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
# OpenSSL's libcrypto hashes the input files recorded in run manifests (SHA-256): a vetted
# implementation rather than one of ours.
find_package(OpenSSL REQUIRED COMPONENTS Crypto)

# libosmium and protozero are header-only; Debian ships no CMake config for them.
find_path(OSMIUM_INCLUDE_DIR osmium/version.hpp REQUIRED)
find_path(PROTOZERO_INCLUDE_DIR protozero/version.hpp REQUIRED)
add_library(zoomdiff_osmium INTERFACE)
target_include_directories(zoomdiff_osmium SYSTEM INTERFACE ${OSMIUM_INCLUDE_DIR} ${PROTOZERO_INCLUDE_DIR})
target_link_libraries(zoomdiff_osmium INTERFACE ZLIB::ZLIB BZip2::BZip2 EXPAT::EXPAT Threads::Threads)

# Private dependencies of the core library, kept out of its public headers (STYLE P6).
add_library(zoomdiff_deps INTERFACE)
target_include_directories(zoomdiff_deps SYSTEM INTERFACE ${HDF5_INCLUDE_DIRS} ${LIBZIP_INCLUDE_DIR})
target_link_libraries(zoomdiff_deps INTERFACE
    GDAL::GDAL GEOS::geos_c ${HDF5_C_HL_LIBRARIES} ${HDF5_C_LIBRARIES} yaml-cpp nlohmann_json::nlohmann_json zoomdiff_osmium
    ${LIBZIP_LIBRARY} nanoflann::nanoflann Eigen3::Eigen OpenSSL::Crypto)

# LibTorch (Debian's libtorch-dev, CPU; a CUDA LibTorch is found the same way via Torch_DIR).
# Only the model library links it (DESIGN §2: torch stays inside the model area).
find_package(Torch REQUIRED)
