"""The fast inference path (:mod:`srnet.deploy.engine`, CPU bands in :mod:`srnet.deploy.banded`
behind the private-op feature check of :mod:`srnet.deploy.ops`, the per-shape choice of
execution in :mod:`srnet.deploy.plan`, the colour path in :mod:`srnet.deploy.rgb` with
:mod:`srnet.deploy.bicubic`, CUDA graphs in :mod:`srnet.deploy.cuda`, the process's heap settled
by :mod:`srnet.deploy.heap`) and export to ONNX /
TorchScript (:mod:`srnet.deploy.export`) and ncnn (:mod:`srnet.deploy.ncnn_export`) of the whole
RGB -> RGB upscaler as one graph (:mod:`srnet.deploy.graph`), run in onnxruntime, OpenCV and ncnn
by :mod:`srnet.deploy.runtimes`. No Lightning here."""
