#!/usr/bin/env bash
# Does the learning rate cost accuracy at the λ where Table 1's boundaries lie?
# App. G.2's rule (best test accuracy at λ = 1e-6) picks lr 0.4 / 0.5 / 0.4 for
# D = 2 / 3 / 4, each just below a value that diverges there; Table 4 lists 0.15
# for LeNet-300-100 on F-MNIST. Trains DWF at fixed (depth, λ, lr) points, 75
# epochs, into sweep `lr_boundary_probe` of the reference store (the rule's
# trials at the same λ and seeds are in sweep `lenet300_fmnist_lr_rule`). Resumable: `bench run`
# prints a trial already in the store instead of training it again.
#   bash experiments/lr_boundary_probe.sh [results-root] ["seeds"]
#   PROBES="depth:lam:lr ..."  which points (default: the first probe's D = 3, 4 at λ 1.33e-3, lr 0.3 and 0.2)
#   JOBS=2                     trials side by side, one thread each
set -euo pipefail
cd "$(dirname "$0")/.."
results=${1:-results/reference}
seeds=${2:-0}
bench=${BENCH:-bench}
probes=${PROBES:-"3:1.33e-3:0.3 3:1.33e-3:0.2 4:1.33e-3:0.3 4:1.33e-3:0.2"}
for seed in $seeds; do
  for probe in $probes; do
    IFS=: read -r depth lam lr <<<"$probe"
    echo "$bench run --model lenet300 --dataset fmnist --method dwf --depth $depth --lam $lam --lr $lr" \
      "--epochs 75 --seed $seed --data ../shared/data --results $results --sweep lr_boundary_probe"
  done
done | OMP_NUM_THREADS=1 xargs -P "${JOBS:-2}" -I{} bash -c {}
