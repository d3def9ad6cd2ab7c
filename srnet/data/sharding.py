"""Validation sharding for several processes (DDP) that never repeats an image.

Lightning's default ``DistributedSampler`` pads every rank to the same length by repeating images,
which would count those images twice in the validation means. :class:`ShardSampler` gives rank
``r`` of ``W`` the images ``r, r + W, r + 2W, ...`` and nothing else; ``SRSystem`` sums the
per-image scores and image counts over ranks (``trainer.strategy.reduce``), so a DDP validation
equals a single-process one. It subclasses ``DistributedSampler``, so Lightning keeps it instead of
injecting its own. Lightning's ``UnrepeatedDistributedSampler`` shards the same way but asserts that
every rank gets at least one image, so a 5-image set on 8 GPUs would stop the run; here a rank may
get none (its sums are zero).
"""

from __future__ import annotations

from collections.abc import Iterator, Sized

from torch.utils.data import DistributedSampler


class ShardSampler(DistributedSampler):
    """Every index exactly once over all ranks, in order, without padding (for evaluation).

    Args:
        dataset: anything with ``len()``.
        num_replicas: the world size.
        rank: this process's global rank.
    """

    def __init__(self, dataset: Sized, num_replicas: int, rank: int) -> None:
        if not 0 <= rank < num_replicas:
            raise ValueError(f"rank {rank} is not in [0, {num_replicas})")
        # Skip DistributedSampler.__init__: it would query torch.distributed and pad.
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.epoch, self.shuffle, self.drop_last, self.seed = 0, False, False, 0
        self.num_samples = len(range(rank, len(dataset), num_replicas))
        self.total_size = len(dataset)

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.rank, len(self.dataset), self.num_replicas))

    def __len__(self) -> int:
        return self.num_samples


def eval_sampler(dataset: Sized, trainer) -> ShardSampler | None:
    """A :class:`ShardSampler` when ``trainer`` runs several processes, else ``None`` (in order)."""
    world = getattr(trainer, "world_size", 1) if trainer is not None else 1
    if world <= 1:
        return None
    return ShardSampler(dataset, world, trainer.global_rank)
