"""Benchmarks run by ``scripts/benchmark.py``; each part returns rows of plain dicts.

* :mod:`srnet.benchmarks.train_speed`: training throughput (LR patches/s, seconds per epoch) of the
  device-resident and DataLoader data paths, per precision, with peak memory.
* :mod:`srnet.benchmarks.infer_speed`: inference megapixels/s of srnet's paths, OpenCV's
  dnn_superres FSRCNN and bicubic (``part=infer``).
* :mod:`srnet.benchmarks.infer_profile`: per-layer CPU time of the deployed path (``part=profile``).
"""
