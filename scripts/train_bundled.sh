#!/usr/bin/env bash
# How srnet/weights/fsrcnn_x{2,3,4}.pt were made on a 2-core CPU (no GPU): the experiment configs in
# stages, each stage starting from the previous one's weights with a fresh, lower cosine schedule,
# then exported to plain weight files. The three scales run in parallel, one thread each.
#   bash scripts/train_bundled.sh            # all stages, all scales
#   SCALES="3" STAGES="1 2" bash scripts/train_bundled.sh
# On a GPU use the experiment configs directly with more epochs (python train.py experiment=fsrcnn_x3
# trainer=gpu trainer.max_epochs=...): this CPU schedule is what fitted in this session's time.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
SCALES=${SCALES:-"2 3 4"}
STAGES=${STAGES:-"1 2 3"}
OUT=${OUT:-logs/bundle}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

batch() { [ "$1" = 2 ] && echo 16 || echo 32; }   # as in configs/experiment/fsrcnn_x<s>.yaml

stage() {  # stage <n> <scale>
  local n=$1 s=$2 dir="$OUT/x$2" prev
  case $n in
    1) "$PY" train.py experiment=fsrcnn_x$s trainer.max_epochs=2 hydra.run.dir="$dir" ;;
    2) prev="$dir/checkpoints/last.ckpt"
       "$PY" train.py experiment=fsrcnn_x$s trainer.max_epochs=1 \
         data.patches_per_epoch=$((4000 * $(batch "$s"))) model.optimizer.lr=0.0005 \
         model.init_from="$prev" hydra.run.dir="${dir}_stage2" ;;
    3) prev="${dir}_stage2/checkpoints/last.ckpt"
       "$PY" train.py experiment=fsrcnn_x$s trainer.max_epochs=1 \
         data.patches_per_epoch=$((7000 * $(batch "$s"))) model.optimizer.lr=0.0003 \
         model.init_from="$prev" hydra.run.dir="${dir}_stage3" ;;
  esac > "$OUT/logs/x${s}_stage$n.log" 2>&1
}

mkdir -p "$OUT/logs"
for n in $STAGES; do
  for s in $SCALES; do stage "$n" "$s" & done
  wait
done
for s in $SCALES; do
  last=$(ls -d "$OUT"/x${s} "$OUT"/x${s}_stage* 2>/dev/null | sort | tail -n 1)   # the last stage run
  rm -f srnet/weights/fsrcnn_x$s.pt   # replaced on purpose: the export itself never overwrites
  "$PY" -m srnet.io.checkpoints "$last/checkpoints/last.ckpt" srnet/weights/fsrcnn_x$s.pt
done
