"""The ``infer.py`` application: inputs, stills, animations, video, output naming and writing,
provenance. It uses the inference API (:mod:`srnet.infer`); nothing below imports it."""
