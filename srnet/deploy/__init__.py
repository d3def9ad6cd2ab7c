"""The fast inference path (:mod:`srnet.deploy.engine`, CPU bands in :mod:`srnet.deploy.banded`
behind the private-op feature check of :mod:`srnet.deploy.ops`, the per-shape choice of
execution in :mod:`srnet.deploy.plan`, the colour path in :mod:`srnet.deploy.rgb` with
:mod:`srnet.deploy.bicubic`, CUDA graphs in :mod:`srnet.deploy.cuda`) and export to ONNX /
TorchScript (:mod:`srnet.deploy.export`). No Lightning here."""
