#!/usr/bin/env bash
# The committed reference reproduction of the DWF paper's LeNet-300-100 / F-MNIST
# rows (Tables 1 and 2): the full paper protocol (75 epochs, 3 seeds, every
# method of sweeps/lenet300_fmnist.yaml) driven by the adaptive ε-search, into
# results/reference/, then its report into reports/reference/lenet300_fmnist/.
# Resumable: re-run it and it trains only what is missing. Commit
# results/reference as it grows (the checkpoints/ folder is not tracked).
# Usage: experiments/reference.sh [extra `bench sweep` flags, e.g. --address auto]
set -euo pipefail
cd "$(dirname "$0")/.."
# Tables 1 and 2's methods. spred, PILoT and L1 (the issue asks for one setting each) are in the
# store already; their own 30 adaptive searches would train up to 642 trials more (`--dry-run` with
# `--methods dense,spred,pilot,l1`; dense is needed for the ε cells), spred's to no end, since it stays
# at Lemma 2's saddle here (README, Decisions): add them with those --methods where the time is there.
METHODS=dense,dwf,gmp,snip,synflow,random
bench sweep lenet300_fmnist --adaptive --methods "$METHODS" --data ../shared/data --results results/reference "$@"
# Table 1 also at the paper's absolute thresholds (its dense 89.12% minus 5 and 10 points).
# --adaptive: the index lists the searches still open (their cells can still move).
bench report lenet300_fmnist --results results/reference --out reports/reference/lenet300_fmnist \
  --absolute 84.12 --absolute 79.12 --adaptive --methods "$METHODS"
