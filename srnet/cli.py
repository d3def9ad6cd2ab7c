"""Console entry points: ``srnet-train`` is ``python train.py``, ``srnet-infer`` is
``python infer.py``, with the same Hydra configs (:data:`srnet.CONFIG_DIR`: shipped inside the
wheel, or the checkout's ``configs/``).
"""

from __future__ import annotations

import sys

from omegaconf import DictConfig

from srnet import CONFIG_DIR


def _hydra_main(config_name: str, task) -> None:
    import hydra

    if not (CONFIG_DIR / f"{config_name}.yaml").is_file():
        sys.exit(f"srnet: {CONFIG_DIR / config_name}.yaml not found (a broken install?)")
    hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name=config_name)(task)()


def train_main() -> None:
    """``srnet-train``: the same as ``python train.py``."""
    from srnet.train.run import main
    from srnet.train.rundirs import register_resolvers

    register_resolvers()
    _hydra_main("train", main)


def run_infer(cfg: DictConfig) -> int:
    """``infer.py`` for a composed config: ``mode=evaluate`` scores the inputs
    (:func:`srnet.analysis.evaluation.evaluate_inputs`), ``mode=upscale`` upscales them
    (:func:`srnet.app.app.infer`). Returns the exit code."""
    if cfg.get("mode") == "evaluate":
        from srnet.analysis.evaluation import evaluate_inputs

        return evaluate_inputs(cfg)
    from srnet.app.app import infer

    return infer(cfg)


def infer_main() -> None:
    """``srnet-infer``: the same as ``python infer.py``."""
    _hydra_main("infer", lambda cfg: sys.exit(run_infer(cfg)))
