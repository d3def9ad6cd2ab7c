"""Train an SR network: ``python train.py`` (embedded sample data, x2 FSRCNN, CPU or GPU).

Hydra overrides change anything, e.g.
``python train.py scale=3 data=t91 trainer=gpu trainer.max_epochs=50 model.net.d=32``.
The composed config lives in ``configs/train.yaml``; runs go to ``logs/train/<date>_<time>/``;
``python train.py ckpt_path=last`` continues the newest run there (``srnet/train/rundirs.py``).
"""

import sys

import hydra
from omegaconf import DictConfig

from srnet.cli import check_argv
from srnet.train.run import main as run_main
from srnet.train.rundirs import register_resolvers

register_resolvers()  # hydra.run.dir: fresh, resumed (ckpt_path=last) or shared by a DDP job


@hydra.main(version_base="1.3", config_path="configs", config_name="train")
def main(cfg: DictConfig) -> float | None:
    return run_main(cfg)


if __name__ == "__main__":
    sys.argv[1:] = check_argv("train", sys.argv[1:])  # exit 2 on an unknown key or bad override
    main()
