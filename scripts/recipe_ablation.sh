#!/usr/bin/env bash
# How the bundled recipe was chosen: one change at a time against it (docs/training.md, "How the
# recipe was chosen"), each arm a short run on one thread, two at a time, then a table of them all.
#   x3 arms: configs/experiment/bundle_x3.yaml from scratch for 6,000 steps (one cosine schedule),
#     `base` as it is, every other arm with one override, except the last three, which combine the
#     single changes that won (L1, the tail at 1.0x, over-parameterisation);
#   x2 arms (4,000 steps each, the same CPU time): from the shipped x3 body with the tail fitted in
#     closed form (the recipe's stage 2, plain), from that body with the tail left at its
#     initialisation, and from scratch with the x3 recipe.
# The best validation of each run is chosen on `holdout` only; Set5 / Set14 are shown, not used.
#
#   bash scripts/recipe_ablation.sh                      # every arm, then the table
#   ARMS="base skip_none" bash scripts/recipe_ablation.sh
#   OUT=logs/ablation2 JOBS=1 THREADS=2 bash scripts/recipe_ablation.sh
# An arm whose run folder exists is not run again (delete it to rerun); logs in $OUT/<arm>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=${OUT:-logs/ablation}
JOBS=${JOBS:-2}
THREADS=${THREADS:-1}
X3="experiment=bundle_x3 trainer.max_steps=6000"
X2="experiment=bundle_x2 trainer.max_steps=4000"
declare -A ARM=(
  [base]="$X3"
  [skip_none]="$X3 model.net.skip=none"
  [l1]="$X3 model.loss=l1"
  [tail_lr_1]="$X3 model.tail_lr_scale=1.0"
  [patch48]="$X3 data.patch_size=48 data.batch_size=28 data.patches_per_epoch=33600"
  [no_rescales]="$X3 data.rescales=[1.0]"
  [bf16]="$X3 trainer.precision=bf16-mixed"
  [overparam]="$X3 model.overparam=true"
  [l1_tail_lr_1]="$X3 model.loss=l1 model.tail_lr_scale=1.0"
  [tail_lr_1_overparam]="$X3 model.tail_lr_scale=1.0 model.overparam=true"
  [l1_tail_lr_1_overparam]="$X3 model.loss=l1 model.tail_lr_scale=1.0 model.overparam=true"
  [x2_closed_form]="$X2 model.init_from=srnet/weights/fsrcnn_x3.pt"
  [x2_init_tail]="$X2 model.init_from=srnet/weights/fsrcnn_x3.pt model.tail_fit_batches=0"
  [x2_scratch]="experiment=bundle_x3 scale=2 trainer.max_steps=4000"
)
ORDER="base skip_none l1 tail_lr_1 patch48 no_rescales bf16 overparam l1_tail_lr_1"
ORDER+=" tail_lr_1_overparam l1_tail_lr_1_overparam x2_closed_form x2_init_tail x2_scratch"
ARMS=${ARMS:-$ORDER}
for arm in $ARMS; do
  [ -n "${ARM[$arm]+set}" ] || { echo "recipe_ablation.sh: no arm '$arm'; arms: $ORDER" >&2; exit 2; }
done
mkdir -p "$OUT"

declare -A ARM_OF=()  # pid -> arm
failed=()
reap() {  # wait for one run to end; note its arm if it failed
  local pid rc=0
  wait -n -p pid || rc=$?
  [ "$rc" = 0 ] || failed+=("${ARM_OF[$pid]}")
  unset "ARM_OF[$pid]"
}
for arm in $ARMS; do
  if [ -d "$OUT/$arm" ]; then echo "$OUT/$arm exists: not run again"; continue; fi
  echo "$(date +%T) $arm: ${ARM[$arm]}"
  # shellcheck disable=SC2086  # the arm's overrides are separate words
  OMP_NUM_THREADS=$THREADS "$PY" train.py ${ARM[$arm]} hydra.run.dir="$OUT/$arm" \
    +trainer.enable_progress_bar=false > "$OUT/$arm.log" 2>&1 &
  ARM_OF[$!]=$arm
  while [ "${#ARM_OF[@]}" -ge "$JOBS" ]; do reap; done
done
while [ "${#ARM_OF[@]}" -gt 0 ]; do reap; done
if [ "${#failed[@]}" -gt 0 ]; then
  for arm in "${failed[@]}"; do echo "recipe_ablation.sh: $arm failed, see $OUT/$arm.log" >&2; done
  exit 1
fi
runs=()
for arm in $ARMS; do runs+=("$OUT/$arm"); done
"$PY" scripts/runs_table.py "runs=[$(IFS=,; echo "${runs[*]}")]"
