#!/usr/bin/env bash
# How much GMP's Table 1 / Table 2 cells owe to the length of its retraining (fidelity issue):
# the reference run retrains 25 epochs (learning-rate rewinding, sweeps/lenet300_fmnist.yaml);
# this retrains 5 at the targets where our GMP is furthest above the paper's (CR 400, the ε = 10
# region, and CR 1000, 99.9%), LeNet-300-100 / F-MNIST, 75 dense epochs, into sweep
# gmp_retrain_probe. The dense network of each seed is trained once (or read from the
# results root's checkpoints/). The table: `bench report gmp_retrain_probe --results RESULTS --table accuracy`.
# Usage: experiments/gmp_retrain_probe.sh [RESULTS=results/reference] [SEEDS="0 1 2"] [FINETUNE=5]
set -euo pipefail
results=${1:-results/reference}
seeds=${2:-0 1 2}
finetune=${3:-5}
bench=${BENCH:-bench}
for seed in $seeds; do
  for cr in 400 1000; do
    $bench run --model lenet300 --dataset fmnist --method gmp --compression "$cr" --finetune-epochs "$finetune" \
      --epochs 75 --seed "$seed" --data ../shared/data --results "$results" --sweep gmp_retrain_probe
  done
done
