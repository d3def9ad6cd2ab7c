"""Training: the LightningModule (:mod:`~srnet.train.module`), what ``train.py`` runs
(:mod:`~srnet.train.run`), callbacks, the checkpoint-I/O plugin, resuming and run directories,
start-up config checks, learning-rate schedules and precision names."""
