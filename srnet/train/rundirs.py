"""Run directories: where a run writes, what ``ckpt_path=last`` resumes, one directory per job.

``configs/hydra/default.yaml`` sets ``hydra.run.dir`` (and ``hydra.output_subdir``,
``hydra.job.name``) through the OmegaConf resolvers registered here, so nothing rewrites the
command line before Hydra starts:

* a fresh run: ``<paths.log_dir>/<task_name>/<date>_<time>``;
* ``ckpt_path=last``: the newest run there that has ``checkpoints/last.ckpt`` (newest by that
  file's time); with ``hydra.run.dir=<run>`` also given, that run's ``checkpoints/last.ckpt``;
* ``ckpt_path=<run>/checkpoints/<file>.ckpt``: that file, continuing ``<run>``; a ``.ckpt``
  outside a run directory starts a new run from it;
* under torchrun or SLURM's srun with several processes: every rank gets
  ``<paths.log_dir>/<task_name>/<launcher>_<job id>``, and only rank 0 writes ``.hydra/``.

A resumed run's config goes to ``<run>/.hydra/resume_<time>/``, leaving the original as it was.
Lightning restores weights, optimiser, scheduler, step, epoch and callback states;
:class:`srnet.train.rng.RNGState` adds the random generators.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from omegaconf import OmegaConf

LAST = "last"


def run_dir_of(ckpt: str | Path) -> Path | None:
    """``<run>/checkpoints/x.ckpt`` -> ``<run>`` when ``<run>`` is a Hydra run directory."""
    ckpt = Path(ckpt).expanduser().resolve()
    run = ckpt.parent.parent
    return run if ckpt.parent.name == "checkpoints" and (run / ".hydra").is_dir() else None


def newest_run(task_dir: str | Path) -> Path | None:
    """The run under ``task_dir`` whose ``checkpoints/last.ckpt`` was written last, if any."""
    lasts = list(Path(task_dir).glob("*/checkpoints/last.ckpt"))
    return max(lasts, key=lambda p: p.stat().st_mtime).parents[1] if lasts else None


def resolve_ckpt_path(ckpt_path: str | None, run_dir: str | Path) -> str | None:
    """The file ``ckpt_path`` names for this run (``last``: ``<run_dir>/checkpoints/last.ckpt``).

    Raises:
        FileNotFoundError: naming ``ckpt_path`` and the file looked for.
    """
    if ckpt_path in (None, "", "null"):
        return None
    if str(ckpt_path) == LAST:
        path = Path(run_dir) / "checkpoints" / "last.ckpt"
        if not path.is_file():
            raise FileNotFoundError(
                f"ckpt_path=last: {path} does not exist. `last` resumes the newest run under "
                f"<paths.log_dir>/<task_name>/ with checkpoints/last.ckpt (no run under "
                f"{Path(run_dir).parent} has one), or the run given by hydra.run.dir=<run>; or "
                f"pass ckpt_path=<file.ckpt>")
        return str(path)
    path = Path(ckpt_path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"ckpt_path={ckpt_path}: no such file")
    return str(path)


def launcher(env: Mapping[str, str] = os.environ) -> tuple[str, int, int, str] | None:
    """(kind, rank, world size, job id) under torchrun / srun, else None."""
    if "TORCHELASTIC_RUN_ID" in env and "RANK" in env:
        return ("torchrun", int(env["RANK"]), int(env.get("WORLD_SIZE", "1")),
                env["TORCHELASTIC_RUN_ID"])
    if "SLURM_PROCID" in env and "SLURM_JOB_ID" in env:
        job = env["SLURM_JOB_ID"] + (f"_{env['SLURM_STEP_ID']}" if "SLURM_STEP_ID" in env else "")
        return "slurm", int(env["SLURM_PROCID"]), int(env.get("SLURM_NTASKS", "1")), job
    return None


def resumed_run(ckpt_path: str | None, task_dir: str | Path) -> Path | None:
    """The existing run directory that ``ckpt_path`` continues, if any."""
    if ckpt_path in (None, "", "null"):
        return None
    if str(ckpt_path) == LAST:
        return newest_run(task_dir)
    path = Path(str(ckpt_path)).expanduser()
    return run_dir_of(path if path.is_absolute() else Path.cwd() / path)


def run_dir(task_dir: str, stamp: str, ckpt_path: str | None = None,
            env: Mapping[str, str] = os.environ) -> str:
    """``hydra.run.dir``: the run ``ckpt_path`` continues, one directory per multi-process job,
    else ``<task_dir>/<stamp>`` (see the module docstring)."""
    run = resumed_run(ckpt_path, task_dir)
    if run is not None:
        return str(run)
    job = launcher(env)
    if job is not None and job[2] > 1:
        if job[3] in ("", "none"):
            raise ValueError("torchrun without --rdzv-id: the processes share no job id, so pass "
                             "hydra.run.dir=<a directory, the same on every node>")
        return str(Path(task_dir) / f"{job[0]}_{job[3]}")
    return str(Path(task_dir) / stamp)


def output_subdir(ckpt_path: str | None, task_dir: str, stamp: str,
                  env: Mapping[str, str] = os.environ) -> str | None:
    """``hydra.output_subdir``: none on ranks > 0, ``.hydra/resume_<stamp>`` when resuming."""
    job = launcher(env)
    if job is not None and job[2] > 1 and job[1] > 0:
        return None
    return f".hydra/resume_{stamp}" if resumed_run(ckpt_path, task_dir) else ".hydra"


def job_name(name: str, env: Mapping[str, str] = os.environ) -> str:
    """``hydra.job.name``: ``<name>_rank<r>`` on ranks > 0 (their own log file), else ``name``."""
    job = launcher(env)
    return f"{name}_rank{job[1]}" if job is not None and job[2] > 1 and job[1] > 0 else name


def register_resolvers() -> None:
    """Register ``srnet.run_dir``, ``srnet.output_subdir`` and ``srnet.job_name`` (idempotent)."""
    for name, fn in (("srnet.run_dir", run_dir), ("srnet.output_subdir", output_subdir),
                     ("srnet.job_name", job_name)):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, fn)
