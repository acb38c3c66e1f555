#!/usr/bin/env bash
# Which reading of App. G.2's "omega_min = 3e-3" does the data support?
#   factor:  |omega_d| > 3e-3                (Algorithm 1 with eps = 3e-3^D)
#   product: |omega_d| > (3e-3)^(1/D)        (Algorithm 1 with eps = 3e-3)
# DWF D = 3 and 4 on LeNet-300-100 / F-MNIST near the eps = 5 boundary, 75 epochs,
# lr 0.3, seeds as given (default 0). Rows land in RESULTS/omega_min_probe/.
# Usage: experiments/omega_min_probe.sh [RESULTS=results/reference] [SEEDS="0"]
set -euo pipefail
results=${1:-results/reference}
seeds=${2:-0}
bench=${BENCH:-bench}
for seed in $seeds; do
  for spec in "3 9.5e-4" "3 1.3e-3" "4 1e-3" "4 1.5e-3"; do
    set -- $spec
    depth=$1 lam=$2
    product=$(python3 -c "print(round(3e-3 ** (1 / $depth), 6))")
    for omega in 3e-3 "$product"; do
      $bench run --model lenet300 --dataset fmnist --method dwf --depth "$depth" --lam "$lam" --lr 0.3 \
        --omega-min "$omega" --epochs 75 --seed "$seed" --data ../shared/data --results "$results" \
        --sweep omega_min_probe
    done
  done
done
