"""Plain tensor functions: colour conversion (:mod:`~srnet.ops.color`), degradation and the
fixed-rule baselines (:mod:`~srnet.ops.degradation`), the SR metric protocol
(:mod:`~srnet.ops.metrics`). Nothing here imports the rest of srnet, Lightning, Hydra or PIL."""
