"""Every recipe in configs/experiment composes and its model builds; the real-photo recipes start
from the bundled clean weights of the same network (all of their body loads), so that their
result and the clean weights can be blended by ``denoise=``."""

from __future__ import annotations

import hydra
import pytest
from helpers import CONFIGS, compose_train

from srnet.io.checkpoints import BUNDLED

EXPERIMENTS = sorted(p.stem for p in (CONFIGS / "experiment").glob("*.yaml"))


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_model_builds(name: str, tmp_path) -> None:
    cfg = compose_train([f"experiment={name}"], tmp_path)
    init = cfg.model.get("init_from")
    if init is not None and init not in BUNDLED:  # a run of an earlier stage: not here
        cfg.model.init_from = None
    model = hydra.utils.instantiate(cfg.model)  # init_from refuses a body of another shape
    assert model.net.cfg.scale == cfg.scale
    if name.startswith("real_"):
        assert cfg.model.init_from == f"x{cfg.scale}"  # the bundled clean weights of its scale
