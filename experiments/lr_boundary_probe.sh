#!/usr/bin/env bash
# Does the learning rate App. G.2's rule picks (best test accuracy at λ = 1e-6:
# lr 0.5 for D = 3, 0.4 for D = 4, both just below the values that diverge there)
# cost accuracy at the λ where Table 1's boundaries lie? Trains DWF D = 3 and 4
# at the reference run's λ = 1.33e-3 with lr 0.2 and 0.3 (the reference store
# has the rule's lr at the same λ and seeds), 75 epochs, into sweep
# `lr_boundary_probe` of the reference store. Resumable like any sweep.
#   bash experiments/lr_boundary_probe.sh [results-root] ["seeds"]
set -euo pipefail
cd "$(dirname "$0")/.."
results=${1:-results/reference}
seeds=${2:-0}
bench=${BENCH:-bench}
for seed in $seeds; do
  for depth in 3 4; do
    for lr in 0.3 0.2; do
      $bench run --model lenet300 --dataset fmnist --method dwf --depth "$depth" --lam 1.33e-3 --lr "$lr" \
        --epochs 75 --seed "$seed" --data ../shared/data --results "$results" --sweep lr_boundary_probe
    done
  done
done
