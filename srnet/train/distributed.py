"""Multi-process (DDP) helpers: validation sharding that never repeats an image.

Lightning's default ``DistributedSampler`` pads every rank to the same length by repeating images,
which would count those images twice in the validation means. :class:`ShardSampler` gives rank
``r`` of ``W`` the images ``r, r + W, r + 2W, ...`` and nothing else; ``SRSystem`` sums the
per-image scores and image counts over ranks (``trainer.strategy.reduce``), so a DDP validation
equals a single-process one. It subclasses ``DistributedSampler``, so Lightning keeps it instead of
injecting its own.

Under an external launcher (torchrun, SLURM's srun) every rank starts ``train.py`` itself, and Hydra
would make one time-stamped directory per process; :func:`shared_run_argv` gives them all
``<paths.log_dir>/<task_name>/<launcher>_<job id>`` instead, and only rank 0 writes ``.hydra/``.
(Lightning's own launcher, used for ``trainer.devices=N`` on one machine, already passes its run
directory to the processes it starts.)

Launch commands are in the README's "Reliability" section; the trainer config is
``configs/trainer/ddp.yaml``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sized
from pathlib import Path

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


def shared_run_argv(argv: list[str], env: Mapping[str, str] = os.environ,
                    cwd: str | Path | None = None) -> list[str]:
    """Command-line arguments giving every rank of a torchrun / srun job one run directory.

    Args:
        argv: ``sys.argv`` (program name first).
        env: the environment (torchrun sets ``RANK``, ``WORLD_SIZE``, ``TORCHELASTIC_RUN_ID``;
            SLURM ``SLURM_PROCID``, ``SLURM_NTASKS``, ``SLURM_JOB_ID``).
        cwd: where a relative ``paths.log_dir`` starts.

    Returns:
        ``argv`` unchanged outside such a job; else with ``hydra.run.dir`` (unless given) and, on
        ranks > 0, ``hydra.output_subdir=null`` and a per-rank ``hydra.job.name`` (log file).

    Raises:
        SystemExit: a multi-node torchrun without ``--rdzv-id`` (no shared job id): pass
            ``hydra.run.dir=<dir>``, the same on every node.
    """
    from srnet.train.resume import overrides_of, task_dir_of

    if "TORCHELASTIC_RUN_ID" in env and "RANK" in env:
        kind, rank, world, job = "torchrun", env["RANK"], env.get("WORLD_SIZE", "1"), \
            env["TORCHELASTIC_RUN_ID"]
    elif "SLURM_PROCID" in env and "SLURM_JOB_ID" in env:
        kind, rank, world = "slurm", env["SLURM_PROCID"], env.get("SLURM_NTASKS", "1")
        job = env["SLURM_JOB_ID"] + (f"_{env['SLURM_STEP_ID']}" if "SLURM_STEP_ID" in env else "")
    else:
        return argv
    if int(world) <= 1:
        return argv
    ov, extra = overrides_of(argv[1:]), []
    if "hydra.run.dir" not in ov:
        if job in ("", "none"):
            raise SystemExit("torchrun without --rdzv-id: the processes share no job id, so pass "
                             "hydra.run.dir=<a directory, the same on every node>")
        extra.append(f"hydra.run.dir={task_dir_of(ov, Path(cwd or Path.cwd())) / f'{kind}_{job}'}")
    if int(rank) > 0:
        extra += ["hydra.output_subdir=null", f"hydra.job.name=train_rank{rank}"]
    return [*argv, *extra]
