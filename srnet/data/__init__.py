"""Data: sources (folder layouts), datasets, and the LightningDataModule.

``SRDataModule`` is imported on first use, so reading data (``srnet.data.sources``, evaluation
scripts) does not import Lightning.
"""

from srnet.data.sources import (
    BSDS500,
    DIV2K,
    Holdout,
    ImageFolder,
    PairedBenchmark,
    Record,
    SampleImages,
)

__all__ = ["SRDataModule", "BSDS500", "DIV2K", "Holdout", "ImageFolder", "PairedBenchmark", "Record",
           "SampleImages"]


def __getattr__(name: str):
    if name == "SRDataModule":
        from srnet.data.datamodule import SRDataModule

        return SRDataModule
    raise AttributeError(f"module 'srnet.data' has no attribute {name!r}")
