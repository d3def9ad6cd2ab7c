#!/usr/bin/env bash
# How srnet/weights/fsrcnn_x{2,3,4}.pt are made, on CPU cores (no GPU needed):
#   1. x3: FSRCNN with a bicubic skip trained from scratch (configs/experiment/bundle_x3.yaml);
#   4. x3 continued from stage 1's last checkpoint with a new cosine schedule from
#      3e-4 for 36,000 steps (logs in $OUT/x3_more);
#   5. x3 continued again from stage 4's best weights, over-parameterised (model.overparam),
#      a new cosine from 3e-4 for 18,000 steps (logs in $OUT/x3_rep): the shipped x3 weights;
#   2. x2 and x4, side by side: the x3 body (model.init_from; the latest x3 stage's), a tail
#      fitted to it in closed form, then everything fine-tuned, over-parameterised
#      (configs/experiment/bundle_x{2,4}.yaml);
#   3. each scale's best checkpoint exported to a plain weights file in $OUT/weights/, and scored
#      with scripts/evaluate.py next to the shipped weights. Copy a file over srnet/weights/ only
#      when it beats the shipped one (the script never overwrites them).
# "Best" is by `holdout` (every 10th training image, never trained on), which the runs monitor
# (the one epoch*.ckpt each run keeps); Set5 / Set14 are logged for the learning curve only.
#
#   bash scripts/train_bundled.sh                    # all stages, from scratch
#   STAGES="2 3" bash scripts/train_bundled.sh       # again from an existing x3 run
#   RESUME=1 bash scripts/train_bundled.sh           # continue interrupted runs (ckpt_path=last)
#   START=shipped bash scripts/train_bundled.sh      # start every scale from the shipped weights
# On a GPU: TRAINER=gpu bash scripts/train_bundled.sh (bf16, device-resident patches; see
# docs/training.md).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=${OUT:-logs/bundle}
STAGES=${STAGES:-"1 4 5 2 3"}
TRAINER=${TRAINER:-default}
THREADS=${THREADS:-2}
mkdir -p "$OUT/weights"

run() {  # [NAME=<run name>] run <scale> <threads> <extra overrides...>
  local s=$1 t=$2; shift 2
  local name=${NAME:-x$s} extra=()
  [ "${RESUME:-0}" = 1 ] && [ -f "$OUT/$name/checkpoints/last.ckpt" ] && extra+=(ckpt_path=last)
  OMP_NUM_THREADS=$t "$PY" train.py experiment=bundle_x$s trainer="$TRAINER" \
    hydra.run.dir="$OUT/$name" +trainer.enable_progress_bar=false "${extra[@]}" "$@" \
    > "$OUT/$name.log" 2>&1
}

best() {  # the checkpoint a run kept for its best holdout PSNR (save_top_k=1)
  local found=("$1"/checkpoints/epoch*.ckpt)
  [ -f "${found[0]}" ] || { echo "no best checkpoint in $1/checkpoints" >&2; exit 1; }
  echo "${found[0]}"
}

for stage in $STAGES; do
  case $stage in
    1) if [ "${START:-}" = shipped ]; then
         run 3 "$THREADS" model.init_from=srnet/weights/fsrcnn_x3.pt
       else
         run 3 "$THREADS"
       fi ;;
    2) body=$(best "$OUT/x3")
       for name in x3_more x3_rep; do [ -d "$OUT/$name/checkpoints" ] && body=$(best "$OUT/$name"); done
       for s in 2 4; do
         if [ "${START:-}" = shipped ]; then  # the shipped tail is kept: no closed-form fit
           run $s 1 model.init_from=srnet/weights/fsrcnn_x$s.pt model.tail_fit_batches=0 &
         else
           run $s 1 model.init_from="$body" model.overparam=true &
         fi
       done
       wait ;;
    4) NAME=x3_more run 3 "$THREADS" model.init_from="$OUT/x3/checkpoints/last.ckpt" \
         model.optimizer.lr=0.0003 trainer.max_steps=36000 ;;
    5) body=$(best "$OUT/x3_more")
       NAME=x3_rep run 3 "$THREADS" model.init_from="$body" \
         model.overparam=true model.optimizer.lr=0.0003 trainer.max_steps=18000 ;;
    3) for s in 2 3 4; do
         w="$OUT/weights/fsrcnn_x$s.pt" run_dir="$OUT/x$s"
         [ "$s" = 3 ] && for name in x3_more x3_rep; do [ -d "$OUT/$name" ] && run_dir="$OUT/$name"; done
         ckpt=$(best "$run_dir")
         rm -f "$w"  # this run's export only; srnet/weights/ is never touched here
         "$PY" -m srnet.io.checkpoints "$ckpt" "$w"
         "$PY" scripts/evaluate.py ckpt_path="$w" datasets=[Set5,Set14,BSD100] \
           out_dir="$OUT/eval/x$s"
         "$PY" scripts/evaluate.py ckpt_path=srnet/weights/fsrcnn_x$s.pt \
           datasets=[Set5,Set14,BSD100] out_dir="$OUT/eval/shipped_x$s"
       done ;;
  esac
done
