"""A person can use TensorBoard on a run: start the real server, ask its HTTP API for the tags."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request

from helpers import IMAGES, SCALARS, tiny_run

TIMEOUT_S = 90


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


def tags(url: str) -> set[str]:
    """All tags of all runs from a plugin's ``/tags`` route: ``{run: {tag: info}}``."""
    return {tag for run in get_json(url).values() for tag in run}


def log_text(tmp_path) -> str:
    return (tmp_path / "tensorboard.log").read_text()[-2000:]


def test_tensorboard_serves_the_run(tmp_path):
    run = tiny_run(tmp_path).parent  # <run>/tensorboard holds the event files
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "tensorboard.main", "--logdir", str(run), "--host", "127.0.0.1",
           "--port", str(port), "--load_fast", "false", "--reload_interval", "1"]
    log = (tmp_path / "tensorboard.log").open("w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + TIMEOUT_S
        scalars: set[str] = set()
        images: set[str] = set()
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"tensorboard exited: {log_text(tmp_path)}")
            try:
                scalars = tags(f"{base}/data/plugin/scalars/tags")
                images = tags(f"{base}/data/plugin/images/tags")
            except OSError:  # not listening yet
                pass
            if SCALARS <= scalars and IMAGES <= images:
                break
            time.sleep(0.5)
        wanted = SCALARS | {"val/psnr", "val/gen/psnr", "val/gen/psnr_bicubic",
                            "val/gen/gain_over_bicubic", "lr-Adam"}
        assert wanted <= scalars, f"missing scalars {sorted(wanted - scalars)}"
        assert IMAGES | {"images/gen/img_000/2_srnet"} <= images, f"images seen: {sorted(images)}"
        assert "tensorboard" in get_json(f"{base}/data/runs")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    assert proc.returncode is not None
