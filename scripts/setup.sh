#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the sample run need.
# Idempotent and quiet when everything is there. Needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
  cmake g++ make ccache pkg-config
  libgdal-dev gdal-bin libgeos-dev libproj-dev
  libhdf5-dev hdf5-tools
  libcli11-dev libspdlog-dev libfmt-dev libeigen3-dev libyaml-cpp-dev nlohmann-json3-dev
  libosmium2-dev libprotozero-dev zlib1g-dev libbz2-dev libexpat1-dev liblz4-dev
  libzip-dev libnanoflann-dev libssl-dev
  libboost-dev libgtest-dev libbenchmark-dev
  libtorch-dev libopenblas0-openmp
  clang-format # scripts/check_format.sh, the style gate of scripts/test.sh (Debian 12: version 14)
  help2man     # man pages from the tools' --help (cmake/Install.cmake)
  libgloo-dev  # headers ProcessGroupGloo.hpp includes (c10d, issue 10); its symbols are in libtorch_cpu
  python3-xarray python3-h5netcdf python3-netcdf4  # the real netCDF clients our CF outputs are tested with (DESIGN §7)
  python3-matplotlib  # scripts/plot_eval.py: the main job's publication figures
  python3-torch       # model.pt opens in Python with torch.jit.load (tests/python/load_model_pt.py)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root to install: ${missing[*]}" >&2; exit 2; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
