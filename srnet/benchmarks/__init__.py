"""Benchmarks run by ``scripts/benchmark.py``; each part returns rows of plain dicts.

* :mod:`srnet.benchmarks.train_speed`: training throughput (LR patches/s, seconds per epoch) of the
  device-resident and DataLoader data paths, per precision, with peak memory.
"""
