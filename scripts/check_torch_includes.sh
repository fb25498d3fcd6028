#!/usr/bin/env bash
# STYLE §3: LibTorch headers only in the model area (src/model, include/zoomdiff/model, and the
# tests and benches of the model), <torch/torch.h> never in a header, and the torch-free model
# headers (config.hpp, schedule.hpp) free of torch. Prints each offending line; exit 1 if any.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
status=0
outside=$(grep -rnE '#include[[:space:]]*[<"](torch|ATen|c10)/' src include tools tests bench 2>/dev/null |
  grep -vE '^(src/model/|include/zoomdiff/model/|tests/model/|tests/golden/model/|bench/model)' || true)
if [ -n "$outside" ]; then echo "torch include outside the model area:"; echo "$outside"; status=1; fi
heavy=$(grep -rnE '#include[[:space:]]*<torch/torch\.h>' include src --include='*.hpp' || true)
if [ -n "$heavy" ]; then echo "<torch/torch.h> in a header:"; echo "$heavy"; status=1; fi
facade=$(grep -nE '#include[[:space:]]*[<"](torch|ATen|c10)/|network\.hpp|diffusion\.hpp|weights\.hpp' \
  include/zoomdiff/model/config.hpp include/zoomdiff/model/schedule.hpp || true)
if [ -n "$facade" ]; then echo "torch in a torch-free model header:"; echo "$facade"; status=1; fi
exit $status
