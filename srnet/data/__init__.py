"""Data: sources (folder layouts), datasets, and the LightningDataModule."""

from srnet.data.datamodule import SRDataModule
from srnet.data.sources import ImageFolder, PairedBenchmark, Record, SampleImages

__all__ = ["SRDataModule", "ImageFolder", "PairedBenchmark", "Record", "SampleImages"]
