"""Upscale images with a trained network: ``python infer.py input=<file|folder|glob> output=<folder>
ckpt_path=<run.ckpt>`` (or ``srnet-infer ...``).

The scale and colour mode come from the checkpoint; without ``ckpt_path`` the bundled weights for
``scale`` are used. Settings and their meaning: ``configs/infer.yaml``; the work is done by
``srnet.cli.run_infer``. Exit code 0 when every image was written, 1 when some failed, 2 on a usage error.
"""

import hydra
from omegaconf import DictConfig

from srnet.cli import run_infer


@hydra.main(version_base="1.3", config_path="configs", config_name="infer")
def main(cfg: DictConfig) -> None:
    raise SystemExit(run_infer(cfg))


if __name__ == "__main__":
    main()
