"""Train an SR network: ``python train.py`` (embedded sample data, x2 FSRCNN, CPU or GPU).

Hydra overrides change anything, e.g.
``python train.py scale=3 data=t91 trainer=gpu trainer.max_epochs=50 model.net.d=32``.
The composed config lives in ``configs/train.yaml``; runs go to ``logs/train/<date>_<time>/``.
``python train.py ckpt_path=last`` continues the newest run there (see ``srnet/train/resume.py``).
"""

import sys

import hydra
from omegaconf import DictConfig

from srnet.train.distributed import shared_run_argv
from srnet.train.resume import resume_argv
from srnet.train.run import train


@hydra.main(version_base="1.3", config_path="configs", config_name="train")
def main(cfg: DictConfig) -> float | None:
    metrics = train(cfg)
    return metrics.get("val/psnr")


if __name__ == "__main__":
    sys.argv = resume_argv(sys.argv)  # ckpt_path=last or <run>/checkpoints/x.ckpt: continue <run>
    sys.argv = shared_run_argv(sys.argv)  # torchrun / srun: one run directory for all ranks
    main()
