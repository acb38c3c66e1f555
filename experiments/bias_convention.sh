#!/usr/bin/env bash
# The counting convention's effect on the prune-at-init baselines (fidelity issue):
# SNIP and SynFlow at 99% and 99.9% sparsity (CR 100, 1000), LeNet-300-100 / F-MNIST,
# 75 epochs, under
#   weights  (the default): weights scored, pruned and counted; biases trainable, uncounted
#            -> these are the reference sweep's own trials (sweep lenet300_fmnist)
#   biases   (--include-bias): biases scored, pruned and counted too (zero-initialized
#            biases score 0, so they go first) -> sweep bias_convention
# Usage: experiments/bias_convention.sh [RESULTS=results/reference] [SEEDS="0"]
set -euo pipefail
results=${1:-results/reference}
seeds=${2:-0}
bench=${BENCH:-bench}
for seed in $seeds; do
  for cr in 100 1000; do
    for method in synflow snip; do
      common=(--model lenet300 --dataset fmnist --method "$method" --compression "$cr" --epochs 75 --seed "$seed"
              --data ../shared/data --results "$results")
      $bench run "${common[@]}" --sweep lenet300_fmnist
      $bench run "${common[@]}" --include-bias --sweep bias_convention
    done
  done
done
