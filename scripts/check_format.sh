#!/usr/bin/env bash
# STYLE gate (issue 17): every C++ source in the tree is formatted with the repo's .clang-format by
# clang-format 14 (Debian 12's package, installed by scripts/setup.sh). Another major version
# formats some constructs differently, so it is refused with the fix rather than trusted.
# Prints each unformatted file and the command that fixes it; exit 1 if any, 2 if no usable tool.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tool=""
for candidate in clang-format-14 clang-format; do
  if command -v "$candidate" >/dev/null; then tool=$candidate; break; fi
done
if [ -z "$tool" ]; then
  echo "check_format: clang-format not found: run scripts/setup.sh (installs Debian's clang-format)" >&2
  exit 2
fi
major=$("$tool" --version | sed -nE 's/.*version ([0-9]+)\..*/\1/p')
if [ "$major" != "14" ]; then
  echo "check_format: $tool is version ${major:-unknown}, the tree is formatted by version 14:" \
       "install clang-format-14 (Debian 12: apt-get install clang-format)" >&2
  exit 2
fi
mapfile -t files < <(find src include tools tests bench -type f \( -name '*.cpp' -o -name '*.hpp' \) | sort)
bad=()
for f in "${files[@]}"; do
  "$tool" --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "check_format: ${#bad[@]} of ${#files[@]} files are not formatted; fix with:" >&2
  echo "  $tool -i ${bad[*]}" >&2
  exit 1
fi
echo "check_format: ${#files[@]} files formatted"
