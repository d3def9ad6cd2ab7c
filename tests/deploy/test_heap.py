"""srnet.deploy.heap: after settle_heap, a call's freed activations are not given back to the
system and faulted in again by the next call (each check in a fresh process: the heap's
thresholds are per process)."""

import os
import platform
import subprocess
import sys

import pytest
from helpers import ROOT

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's heap only")

CALLS = r"""
import resource, torch
from srnet.deploy.engine import deploy
from srnet.deploy.heap import settle_heap
from srnet.nets.fsrcnn import build_net
torch.set_num_threads(2)
net = deploy(build_net({"scale": 2, "d": 16, "s": None, "m": 5, "first_kernel": 3,
                        "shrink": False, "skip": "bicubic"}).eval())
print(settle_heap())  # deploy did it already
x = torch.rand(1, 1, 256, 256).contiguous(memory_format=torch.channels_last)
faults = []
with torch.inference_mode():
    for _ in range(12):  # whole-image calls: 4 MB activations, all freed after each call
        f = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        net.forward_phases(x, "banded-intra")
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f)
print(sorted(faults[4:])[4])  # the median call once warm
"""


def calls(**env: str) -> tuple[str, int]:
    done = subprocess.run([sys.executable, "-c", CALLS], capture_output=True, text=True,
                          env={**os.environ, **env}, cwd=ROOT, timeout=300, check=True)
    again, faults = done.stdout.strip().splitlines()
    return again, int(faults)


def test_a_settled_heap_keeps_the_activations_of_the_last_call() -> None:
    again, settled = calls()
    assert again == "False"  # once per process
    # unsettled, each call faults about 7,000 pages in again (SRNET_SETTLE_HEAP=0: 7,136 per call
    # in every one of 16 calls); settled, none from the third or fourth call on
    assert settled < 500


def test_the_switch_leaves_the_heap_alone() -> None:
    from srnet.deploy.heap import ENV

    done = subprocess.run([sys.executable, "-c", "from srnet.deploy.heap import settle_heap;"
                           "print(settle_heap())"], capture_output=True, text=True,
                          env={**os.environ, ENV: "0"}, cwd=ROOT, timeout=120, check=True)
    assert done.stdout.strip() == "False"


def test_deploying_on_cpu_settles_the_heap(monkeypatch) -> None:
    from srnet.deploy import engine
    from srnet.nets.fsrcnn import build_net

    calls = []
    monkeypatch.setattr(engine, "settle_heap", lambda: calls.append(1))
    engine.deploy(build_net({"scale": 2, "d": 8, "s": 4, "m": 1}), "cpu")
    assert calls == [1]
