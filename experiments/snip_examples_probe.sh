#!/usr/bin/env bash
# SNIP's scoring batch (fidelity issue, Table 1's SNIP cells): the reference run scores on one batch
# of the training batch size (256 examples); Synaptic-Flow's reference SNIP scores on 10 examples
# per class, i.e. 100 on F-MNIST. This trains SNIP with `--snip-examples 100` at our Table 1 cells
# (CR 100 at ε = 5, 205 at ε = 10) and the paper's ε = 10 cell (146), LeNet-300-100 / F-MNIST,
# 75 epochs, into sweep snip_examples_probe; the reference run's SNIP trials at the same targets
# are the 256-example side. The table: `bench report snip_examples_probe --results RESULTS`.
# Usage: experiments/snip_examples_probe.sh [RESULTS=results/reference] [SEEDS="0 1 2"] [EXAMPLES=100]
set -euo pipefail
results=${1:-results/reference}
seeds=${2:-0 1 2}
examples=${3:-100}
bench=${BENCH:-bench}
for seed in $seeds; do
  for cr in 100 146 205; do
    $bench run --model lenet300 --dataset fmnist --method snip --compression "$cr" --snip-examples "$examples" \
      --epochs 75 --seed "$seed" --data ../shared/data --results "$results" --sweep snip_examples_probe
  done
done
