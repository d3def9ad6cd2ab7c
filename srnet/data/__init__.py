"""Data: sources (folder layouts, holdout splits: :mod:`~srnet.data.sources`), datasets, the
device-resident sampler, validation sharding, the pre-flight check, and the LightningDataModule
(:mod:`~srnet.data.datamodule`; reading data through ``srnet.data.sources`` does not import
Lightning)."""
