"""Plain tensor functions: colour conversion (:mod:`~srnet.ops.color`), resizing by rule and the
upscaling baselines (:mod:`~srnet.ops.resize`), the degradation steps
(:mod:`~srnet.ops.degradation`) and presets (:mod:`~srnet.ops.degrader`), the SR metric protocol
(:mod:`~srnet.ops.metrics`). Nothing here imports the rest of srnet, Lightning, Hydra or PIL."""
