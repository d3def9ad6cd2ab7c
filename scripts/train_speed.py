"""Training throughput: LR patches/s and seconds per epoch, per data path, precision and
degradation (srnet/benchmarks/train_speed.py does the work).

    python scripts/train_speed.py scale=3 path=dataloader precision=32-true steps=30
    python scripts/train_speed.py degradation=photo path=dataloader precision=32-true

Keys: ``device``, ``precision``, ``path`` (``device`` and/or ``dataloader``), ``batch_size``,
``steps``, ``warmup``, ``scale``, ``patch_size``, ``num_workers``, ``data_dir``, ``d`` / ``s`` /
``m``, ``channels_last``, ``compile``, ``subpixel``, ``devices``, ``degradation``, ``json``.
"""

from __future__ import annotations

import sys

from kvargs import parse_kv

from srnet.benchmarks import train_speed

if __name__ == "__main__":
    train_speed.main(parse_kv("train_speed.py", train_speed.defaults(), sys.argv[1:]))
