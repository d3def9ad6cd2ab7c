"""Train an SR network: ``python train.py`` (embedded sample data, x2 FSRCNN, CPU or GPU).

Hydra overrides change anything, e.g.
``python train.py scale=3 data=t91 trainer=gpu trainer.max_epochs=50 model.net.d=32``.
The composed config lives in ``configs/train.yaml``; runs go to ``logs/train/<date>_<time>/``.
"""

import hydra
from omegaconf import DictConfig

from srnet.training import train


@hydra.main(version_base="1.3", config_path="configs", config_name="train")
def main(cfg: DictConfig) -> float | None:
    metrics = train(cfg)
    return metrics.get("val/psnr")


if __name__ == "__main__":
    main()
