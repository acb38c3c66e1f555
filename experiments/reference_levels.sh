#!/usr/bin/env bash
# The trials every search of the reference sections needs, whatever it decides: the dense network and each
# pruning method (GMP, SNIP, SynFlow, random) at Table 2's eight levels (CR 10 ... 1000), every seed.
# They are ordinary trials of sweeps/NAME.yaml (same config, same hash, same store folder), run as a
# grid so they can start before the searches that need them: `bench sweep NAME --adaptive` later finds
# them done and trains none of them again.
#
# Usage: experiments/reference_levels.sh [NAME ...]   (default: lenet300_fmnist lenet300_mnist)
# Writes results/reference/NAME/; resumable (re-run the same command).
set -euo pipefail
cd "$(dirname "$0")/.."
bench=${BENCH:-bench}
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(lenet300_fmnist lenet300_mnist)
for name in "${names[@]}"; do
  spec=$(mktemp --suffix=.yaml)
  python - "sweeps/$name.yaml" "$spec" <<'PY'
import sys, yaml
from suite.grid import TABLE2_LEVELS
spec = yaml.safe_load(open(sys.argv[1]))
keep = ("dense", "gmp", "snip", "synflow", "random")
spec["methods"] = {m: block for m, block in spec["methods"].items() if m in keep}
for method, block in spec["methods"].items():
    if "compression" in block:
        assert set(TABLE2_LEVELS) <= set(block["compression"]), (method, "levels not in the spec's grid")
        block["compression"] = list(TABLE2_LEVELS)
yaml.safe_dump(spec, open(sys.argv[2], "w"), sort_keys=False)
PY
  $bench sweep "$spec" --data ../shared/data --results results/reference
  rm -f "$spec"
done
