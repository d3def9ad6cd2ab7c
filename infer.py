"""Upscale images with a trained network: ``python infer.py input=<file|folder|glob> output=<folder>
ckpt_path=<run.ckpt>`` (or ``srnet-infer ...``).

The scale and colour mode come from the checkpoint; without ``ckpt_path`` the bundled weights for
``scale`` are used. Settings and their meaning: ``configs/infer.yaml``; the work is done by
``srnet.cli.run_infer``. Exit code 0 when every image was written (or skipped), 1 when some
failed, 2 on a usage error (``srnet.cli.check_argv`` reads the overrides before Hydra does).
"""

import sys

import hydra
from omegaconf import DictConfig

from srnet.cli import check_argv, run_infer


@hydra.main(version_base="1.3", config_path="configs", config_name="infer")
def main(cfg: DictConfig) -> None:
    raise SystemExit(run_infer(cfg))


if __name__ == "__main__":
    sys.argv[1:] = check_argv("infer", sys.argv[1:])  # exit 2 on a usage error
    main()
