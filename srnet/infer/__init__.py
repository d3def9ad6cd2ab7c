"""The inference API: ``load_model`` and the :class:`~srnet.infer.upscaler.Upscaler` it returns,
tiling, devices and precisions, model choice by scale, float images. No Lightning, no data or
training code; the ``infer.py`` application built on it is :mod:`srnet.app`."""
