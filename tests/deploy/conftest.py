"""Every test under tests/deploy runs twice: with the private oneDNN ops (where this PyTorch has
them) and with the public ``F.conv2d`` fallback forced (``srnet.deploy.ops.set_private_ops``).
A test module with ``ONE_OPS = True`` runs once, with the automatic choice."""

from __future__ import annotations

import pytest

from srnet.deploy.ops import set_private_ops


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "conv_ops" in metafunc.fixturenames and not getattr(metafunc.module, "ONE_OPS", False):
        metafunc.parametrize("conv_ops", ["private", "public"], indirect=True)


@pytest.fixture(autouse=True)
def conv_ops(request: pytest.FixtureRequest):
    param = getattr(request, "param", "private")
    set_private_ops(None if param == "private" else False)
    yield param
    set_private_ops(None)
