"""The fast inference path (:mod:`srnet.deploy.engine`, CPU bands in :mod:`srnet.deploy.banded`,
the colour path in :mod:`srnet.deploy.rgb`) and export to ONNX / TorchScript
(:mod:`srnet.deploy.export`). No Lightning here."""

from srnet.deploy.engine import DeployedNet, deploy

__all__ = ["DeployedNet", "deploy"]
