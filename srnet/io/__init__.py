"""Files: images in and out (8 and 16 bit, :mod:`~srnet.io.images`), trained networks in and out
(:mod:`~srnet.io.checkpoints`). Shared by data, training and inference; no Lightning."""
