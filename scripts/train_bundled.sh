#!/usr/bin/env bash
# How srnet/weights/fsrcnn_x{2,3,4}.pt (clean) and fsrcnn_x{2,3,4}_real.pt are made, on CPU cores:
#   1. x3 body: the re-shaped network from scratch (configs/experiment/slim_x3.yaml);
#   2. x2 and x4 from the x3 body's best checkpoint: a tail fitted in closed form, then
#      everything fine-tuned (configs/experiment/slim_x{2,4}.yaml), one after the other; then
#      each one's best deepened by a fifth mapping layer and trained on (slim_x{2,4}_m5.yaml);
#      x2's then given a kernel-6 tail (a 3x3 phase conv instead of 5x5) and trained on (slim_x2_k6);
#   3. each scale's best checkpoint exported to a plain weights file in $OUT/weights/ and scored
#      with scripts/evaluate.py next to the shipped weights on Set5 / Set14 / BSD100;
#   4. the real-photo weights: the clean weights of step 3 (START=shipped: the shipped clean
#      weights) fine-tuned on the `photo` degradation (configs/experiment/real_x{2,3,4}.yaml);
#   5. those exported and scored on degraded Set14 / BSD100 next to the clean weights and bicubic.
# "Best" is by `holdout` (every 10th training image, never trained on; degraded like the training
# LR for the real weights), which the runs monitor (the one epoch*.ckpt each run keeps); the test
# sets are scored only at the end. Copy a file over srnet/weights/ only when it beats the shipped
# one on every set (the script never overwrites them); copy each run's last.ckpt to runs/bundle/.
#
#   bash scripts/train_bundled.sh                    # all stages
#   STAGES="4 5" START=shipped bash scripts/train_bundled.sh   # real weights from shipped clean
#   STAGES="4 5" REAL_SCALES=2 REAL_VARIANT=wide START=shipped bash ...  # the d=32 real x2
#   RESUME=1 bash scripts/train_bundled.sh           # continue interrupted runs (ckpt_path=last)
#   X3_ARGS="trainer.max_steps=12000" X24_ARGS="trainer.max_steps=4000" bash ...  # shorter
# On a GPU: TRAINER=gpu bash scripts/train_bundled.sh (bf16, device-resident patches).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=${OUT:-logs/bundle}
STAGES=${STAGES:-"1 2 3 4 5"}
TRAINER=${TRAINER:-default}
THREADS=${THREADS:-2}
REAL_SCALES=${REAL_SCALES:-"2 3 4"}
REAL_VARIANT=${REAL_VARIANT:+_$REAL_VARIANT}  # wide, rgb: configs/experiment/real_x<s>_<variant>.yaml
DEGRADED="[bicubic,jpeg,jpeg_q75,jpeg_q50,noise,blur_noise_jpeg]"
mkdir -p "$OUT/weights"

run() {  # run <experiment> <run name> <extra overrides...>
  local exp=$1 name=$2; shift 2
  local extra=() dir="$OUT/$name"
  if [ "${RESUME:-0}" = 1 ] && [ -f "$dir/checkpoints/last.ckpt" ]; then
    extra+=(ckpt_path=last)
  elif [ -e "$dir" ]; then  # a new run never mixes with an earlier one's checkpoints: kept aside
    local aside
    aside="$dir.before-$(date +%Y%m%d-%H%M%S)"
    mv "$dir" "$aside" && { [ ! -e "$dir.log" ] || mv "$dir.log" "$aside.log"; }
    echo "train_bundled.sh: the earlier $dir is now $aside" >&2
  fi
  OMP_NUM_THREADS=$THREADS "$PY" train.py experiment="$exp" trainer="$TRAINER" \
    hydra.run.dir="$OUT/$name" +trainer.enable_progress_bar=false "${extra[@]}" "$@" \
    > "$OUT/$name.log" 2>&1
}

best() {  # the checkpoint a run kept for its best holdout PSNR (save_top_k=1)
  local found=("$1"/checkpoints/epoch*.ckpt)
  [ -f "${found[0]}" ] || { echo "no best checkpoint in $1/checkpoints" >&2; exit 1; }
  echo "${found[0]}"
}

export_and_score() {  # export_and_score <run dir> <weights file> <degradations> <shipped name>
  local ckpt  # an assignment, so that set -e stops the script when there is no best
  ckpt=$(best "$1")
  rm -f "$2"  # this run's export only; srnet/weights/ is never touched here
  "$PY" -m srnet.io.checkpoints "$ckpt" "$2"
  "$PY" scripts/evaluate.py "ckpt_path=[$2,$4]" datasets=[Set5,Set14,BSD100] \
    "degradation=$3" out_dir="$OUT/eval/$(basename "$2" .pt)"
}

for stage in $STAGES; do
  case $stage in
    1) run slim_x3 x3 ${X3_ARGS:-} ;;
    2) body=$(best "$OUT/x3")
       for s in 2 4; do run "slim_x$s" "x$s" model.init_from="$body" ${X24_ARGS:-}; done
       for s in 2 4; do run "slim_x${s}_m5" "x${s}_m5" model.init_from="$(best "$OUT/x$s")" ${X24_ARGS:-}; done
       run slim_x2_k6 x2_k6 model.init_from="$(best "$OUT/x2_m5")" ${X24_ARGS:-} ;;
    3) for s in 2 3 4; do
         run_dir="$OUT/x3"; [ "$s" = 4 ] && run_dir="$OUT/x4_m5"  # x4 ships deepened,
         [ "$s" = 2 ] && run_dir="$OUT/x2_k6"                      # x2 deepened, kernel-6 tail
         export_and_score "$run_dir" "$OUT/weights/fsrcnn_x$s.pt" "[bicubic]" "x$s"
       done ;;
    4) for s in $REAL_SCALES; do
         clean="$OUT/weights/fsrcnn_x$s.pt"
         [ "${START:-}" = shipped ] && clean="x$s"
         run "real_x$s$REAL_VARIANT" "x${s}_real$REAL_VARIANT" model.init_from="$clean" "~data.val.Set5" "~data.val.Set14"
       done ;;
    5) for s in $REAL_SCALES; do
         export_and_score "$OUT/x${s}_real$REAL_VARIANT" "$OUT/weights/fsrcnn_x${s}_real$REAL_VARIANT.pt" "$DEGRADED" "x$s"
       done ;;
  esac
done
