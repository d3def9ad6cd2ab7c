"""The wheel carries the Hydra configs: srnet-train composes from a directory outside the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from helpers import ROOT


def test_wheel_ships_configs_and_composes_outside_the_checkout(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q",
                    "--no-build-isolation", "-w", str(tmp_path / "dist")], check=True,
                   capture_output=True, timeout=300)
    (wheel,) = (tmp_path / "dist").glob("srnet-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        assert {"srnet/configs/train.yaml", "srnet/configs/infer.yaml",
                "srnet/configs/model/fsrcnn.yaml", "srnet/weights/fsrcnn_x2.pt"} <= names
        z.extractall(tmp_path / "site")
    away = tmp_path / "elsewhere"
    away.mkdir()
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site"), "OMP_NUM_THREADS": "1"}
    code = ("import sys, srnet; assert srnet.__file__.startswith(sys.argv[1]), srnet.__file__;"
            "print(srnet.CONFIG_DIR); sys.argv = ['srnet-train', '--cfg', 'job'];"
            "from srnet.cli import train_main; train_main()")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "site")], cwd=away, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert str(tmp_path / "site" / "srnet" / "configs") in out.stdout
    assert "task_name: train" in out.stdout and "_target_: srnet.train.module.SRSystem" in out.stdout
