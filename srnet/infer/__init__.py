"""Inference: ``load_model`` and the :class:`~srnet.infer.upscaler.Upscaler`, tiling, evaluation
of a network and the baselines on image sets, and the ``infer.py`` application. No Lightning."""
