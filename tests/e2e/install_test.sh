#!/usr/bin/env bash
# e2e.install: `cmake --install` into a fresh prefix gives bin/ with the six tools, the configs and
# a man page per tool; the installed tools run from another directory, with nothing of the source
# or build tree on their path.
# usage: install_test.sh <build_dir> <npz>   (npz: a UoMo-format file the installed uomo_import reads)
set -euo pipefail
build=$1
npz=$2
prefix=$(mktemp -d "${TMPDIR:-/tmp}/zoomdiff-install.XXXXXX")
trap 'rm -rf "$prefix"' EXIT
fail() { echo "install test: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix/usr" > "$prefix/install.log"
tools=(grid_meta env_extra zoomdiff_train zoomdiff_infer zoomdiff_eval uomo_import)
for tool in "${tools[@]}"; do
  [ -x "$prefix/usr/bin/$tool" ] || fail "bin/$tool is missing"
  page=$prefix/usr/share/man/man1/$tool.1
  [ -s "$page" ] || fail "share/man/man1/$tool.1 is missing"
  grep -q '^\.TH' "$page" || fail "$page is not a man page"
  grep -q 'threads' "$page" || fail "$page does not list the tool's flags (--threads)"
done
for cfg in base.yaml sample.yaml uomo.yaml; do
  [ -s "$prefix/usr/share/zoomdiff/configs/$cfg" ] || fail "share/zoomdiff/configs/$cfg is missing"
done
for doc in README.md docs/zoomdiff_infer.md docs/results.md; do
  [ -s "$prefix/usr/share/doc/zoomdiff/$doc" ] || fail "share/doc/zoomdiff/$doc is missing"
done
man -l "$prefix/usr/share/man/man1/zoomdiff_infer.1" > /dev/null 2>&1 \
  || ! command -v man > /dev/null || fail "man cannot render zoomdiff_infer.1"

# Run the installed tools from an unrelated directory.
work=$prefix/work
mkdir -p "$work" && cd "$work"
for tool in "${tools[@]}"; do
  out=$(env -i PATH="$prefix/usr/bin:/usr/bin:/bin" HOME="$work" "$tool" --version) \
    || fail "installed $tool --version failed"
  case "$out" in "$tool "*) ;; *) fail "installed $tool --version printed: $out" ;; esac
done
env -i PATH="$prefix/usr/bin:/usr/bin:/bin" HOME="$work" uomo_import --npz "$npz" --city InstallCheck \
  --holdout_locations 2 --holdout_seed 1 --part test --out_root "$work/data" -q --progress never \
  || fail "installed uomo_import failed on $npz"
ls "$work"/data/InstallCheck/data/InstallCheck_*_data.h5 > /dev/null 2>&1 \
  || fail "installed uomo_import wrote no data files under $work/data/InstallCheck/data"
echo "install test: $prefix/usr holds ${#tools[@]} tools, their man pages and configs; installed tools ran from $work"
