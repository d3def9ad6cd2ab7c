"""The upsampler study (issue 15): one FSRCNN body, seven tails, x2 and x3, several seeds.

    OMP_NUM_THREADS=1 python scripts/upsampler_study.py                 # train all, then report
    python scripts/upsampler_study.py reuse=true                        # report from saved runs
    python scripts/upsampler_study.py scales=[3] seeds=[0] out=/tmp/s docs=/tmp/s/docs \\
        'train=["trainer.max_steps=300","data.patches_per_epoch=4800"]'  # a smoke run

Every run is ``python train.py experiment=study_<variant> scale=<s> seed=<n>`` (the setting and
budget are in ``configs/experiment/study.yaml``) in its own process, ``threads`` threads each,
``jobs`` at a time, in ``<out>/x<s>/<variant>/seed<n>/``; its steps, CPU and wall time (of that
process, validation included) go to ``run.json`` there. Then the final weights (``last.ckpt``;
nothing is selected on a test set) are measured on ``sets`` (Set5, Set14 with their MATLAB-made LR
files) by ``srnet.analysis.study``, and written to ``docs``:

* ``study_results.md`` -- per scale, mean +- sd over seeds of Y-PSNR / SSIM, the checkerboard on
  flat / ramp probes and on the real images (8-bit levels), parameters, multiply-adds per output
  pixel, steps and training CPU minutes; bicubic and the ground truth's own period-s content as
  references; ``study_results.json`` -- every run's numbers;
* ``figures/upsampler_study.png`` -- seed 0 of every variant: SR - HR on one crop, the per-phase
  error means and the error spectrum, at each scale.

Keys (``key=value``): ``variants``, ``scales``, ``seeds``, ``out`` (runs; default logs/study),
``docs`` (default docs/), ``reuse`` (true: keep runs that finished, train only the missing ones;
``--reuse`` works too), ``jobs``, ``threads``, ``data_root`` (holding ``benchmark/<set>``),
``sets``, ``train`` (extra Hydra overrides for every run, each quoted inside the list as Hydra's
grammar wants: ``'train=["trainer.max_steps=300"]'``), ``keep`` (a folder: after the report, copy
each run's final weights, ``run.json`` and ``holdout.json`` there; ``out=<that folder>
reuse=true`` then reports from them alone: how the committed ``runs/study`` is made).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import torch
from kvargs import parse_kv

from srnet.analysis.curves import read_scalars
from srnet.analysis.study import (
    columns,
    hr_floor,
    late_gain,
    measure_net,
    measure_rule,
    report_pairs,
    table,
)
from srnet.analysis.study_figure import scale_block, study_figure
from srnet.io.checkpoints import trained_steps

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {  # name -> what it is (configs/experiment/study_<name>.yaml)
    "deconv": "transposed conv, k % s == 0 (8 / 9), smooth init",
    "deconv_uneven": "transposed conv, k % s != 0 (9 / 7), paper init N(0, 0.001)",
    "deconv_uneven_smooth": "transposed conv, k % s != 0 (9 / 7), smooth (phase-normalised) init",
    "pixelshuffle": "sub-pixel conv 3x3, PyTorch default init",
    "pixelshuffle_icnr": "sub-pixel conv 3x3, ICNR init",
    "resize_conv": "nearest resize + conv 3x3",
    "bed_of_nails": "zero insertion + conv 9x9",
}
UNEVEN_KERNEL = {2: 9, 3: 7, 4: 10}  # k % s != 0 near FSRCNN's 8 / 9 / 12


def defaults() -> dict:
    return {"variants": list(VARIANTS), "scales": [2, 3], "seeds": [0, 1],
            "out": str(ROOT / "logs" / "study"), "docs": str(ROOT / "docs"), "reuse": False,
            "jobs": 1, "threads": 1, "sets": ["Set5", "Set14"], "train": [], "keep": None,
            "data_root": os.environ.get("SRNET_DATA", str(ROOT.parent / "shared" / "datasets"))}


def parse_args(argv: list[str]) -> dict:
    argv = ["reuse=true" if a == "--reuse" else a for a in argv]
    args = parse_kv("upsampler_study.py", defaults(), argv)
    unknown = set(args["variants"]) - set(VARIANTS)
    if unknown:
        raise SystemExit(f"upsampler_study.py: variants {sorted(unknown)} are not known; "
                         f"choose from {list(VARIANTS)}")
    return args


def run_command(variant: str, scale: int, seed: int, run_dir: Path, extra: list[str]) -> list[str]:
    """The ``train.py`` command line of one run."""
    cmd = [sys.executable, str(ROOT / "train.py"), f"experiment=study_{variant}", f"scale={scale}",
           f"seed={seed}", f"hydra.run.dir={run_dir}", "+trainer.enable_progress_bar=false"]
    if variant.startswith("deconv_uneven"):
        cmd.append(f"model.net.tail_kernel={UNEVEN_KERNEL[scale]}")
    return cmd + list(extra)


def final_weights(run_dir: Path) -> Path | None:
    """A run's final weights: its ``last.ckpt``, or the ``weights.pt`` that ``keep=`` saved."""
    for path in (run_dir / "checkpoints" / "last.ckpt", run_dir / "weights.pt"):
        if path.is_file():
            return path
    return None


def finished(run_dir: Path) -> bool:
    info = run_dir / "run.json"
    return (info.exists() and json.loads(info.read_text()).get("returncode") == 0
            and final_weights(run_dir) is not None)


def holdout_curve(run_dir: Path) -> list:
    """``[(step, time, dB)]`` of ``val/holdout/psnr``: ``holdout.json`` if saved, else read from
    the run's TensorBoard logs and saved there (empty for a run trained with logger=none)."""
    saved = run_dir / "holdout.json"
    if saved.is_file():
        return [tuple(p) for p in json.loads(saved.read_text())]
    try:
        curve = read_scalars(run_dir, ["val/holdout/psnr"])["val/holdout/psnr"]
    except FileNotFoundError:
        return []
    saved.write_text(json.dumps(curve))
    return curve


def portable(cmd: list[str]) -> list[str]:
    """A run's command as anyone would type it in a checkout: ``python train.py ...``, with the
    run folder relative to the project (``logs/study/...``)."""
    def rel(arg: str) -> str:
        key, sep, value = arg.rpartition("=")
        tail = value.rsplit("/logs/study/", 1)
        return f"{key}{sep}logs/study/{tail[1]}" if len(tail) == 2 else arg

    return ["python", Path(cmd[1]).name, *map(rel, cmd[2:])]


def keep_runs(runs: dict[tuple[str, int, int], Path], keep: Path) -> None:
    """Copy what the report needs of every finished run (weights without optimiser state,
    ``run.json``, ``holdout.json``: ~60 kB a run) to ``keep``, in the same layout."""
    from srnet.io.checkpoints import load_net, save_weights

    for (variant, scale, seed), run_dir in runs.items():
        if not finished(run_dir):
            continue
        dest = keep / f"x{scale}" / variant / f"seed{seed}"
        dest.mkdir(parents=True, exist_ok=True)
        save_weights(load_net(final_weights(run_dir)), dest / "weights.pt")
        info = json.loads((run_dir / "run.json").read_text())
        info["command"] = portable(info["command"])
        (dest / "run.json").write_text(json.dumps(info, indent=1))
        (dest / "holdout.json").write_text(json.dumps(holdout_curve(run_dir)))
    print(f"kept the runs' weights, run.json and holdout.json in {keep}")


def train_all(jobs: list[tuple[str, int, int, Path]], args: dict) -> None:
    """Run the ``train.py`` processes, ``args['jobs']`` at a time; record each one's CPU time."""
    env = dict(os.environ, OMP_NUM_THREADS=str(args["threads"]),
               MKL_NUM_THREADS=str(args["threads"]))
    pending, running = list(jobs), {}
    while pending or running:
        while pending and len(running) < max(1, int(args["jobs"])):
            variant, scale, seed, run_dir = pending.pop(0)
            if run_dir.exists():  # a stale or partial run of this study: start it afresh
                if not ((run_dir / "train.log").exists() or not any(run_dir.iterdir())):
                    raise SystemExit(f"{run_dir} exists and is not a study run; not replacing it")
                shutil.rmtree(run_dir)
            run_dir.mkdir(parents=True)
            cmd = run_command(variant, scale, seed, run_dir, args["train"])
            log = (run_dir / "train.log").open("w")
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            running[proc.pid] = (proc, log, cmd, run_dir, time.perf_counter())
            print(f"started  x{scale} {variant} seed {seed} -> {run_dir}", flush=True)
        pid, status, usage = os.wait4(-1, 0)  # whichever run ends first, with its own rusage
        if pid not in running:
            continue
        proc, log, cmd, run_dir, t0 = running.pop(pid)
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.close()
        info = {"command": cmd, "returncode": proc.returncode,
                "cpu_min": (usage.ru_utime + usage.ru_stime) / 60,
                "wall_min": (time.perf_counter() - t0) / 60, "threads": args["threads"],
                "steps": trained_steps(run_dir / "checkpoints" / "last.ckpt")}
        (run_dir / "run.json").write_text(json.dumps(info, indent=1))
        state = "finished" if proc.returncode == 0 else f"FAILED ({proc.returncode}, see train.log)"
        print(f"{state} {run_dir}: {info['cpu_min']:.1f} CPU min, {info['steps']} steps",
              flush=True)


def report(args: dict, runs: dict[tuple[str, int, int], Path]) -> None:
    """Measure every finished run; write the table, the JSON and the figure into ``docs``."""
    from srnet.io.checkpoints import load_net

    docs = Path(args["docs"])
    (docs / "figures").mkdir(parents=True, exist_ok=True)
    sections, blocks, records = [], [], []
    for scale in args["scales"]:
        pairs = report_pairs(args["data_root"], args["sets"], scale)
        flat_pairs = [p for items in pairs.values() for p in items]
        bic_row, bic_views = measure_rule("bicubic", pairs, scale)
        rows = {"bicubic": [bic_row], "HR (its own period-s content)":
                [{"real": hr_floor(pairs, scale)}]}
        shown = {"bicubic": (bic_row, bic_views)}
        for variant in args["variants"]:
            for seed in args["seeds"]:
                run_dir = runs[(variant, scale, seed)]
                if not finished(run_dir):
                    print(f"missing: {run_dir} (not trained or failed); left out of the table")
                    continue
                row, views = measure_net(load_net(final_weights(run_dir)), pairs)
                info = json.loads((run_dir / "run.json").read_text())
                row.update(steps=info["steps"], cpu_min=info["cpu_min"],
                           late_gain=late_gain(holdout_curve(run_dir)))
                rows.setdefault(variant, []).append(row)
                records.append({"variant": variant, "scale": scale, "seed": seed, **row})
                if variant not in shown:
                    shown[variant] = (row, views)
        sections.append(f"## x{scale}\n\n{table(rows, columns(args['sets']))}\n")
        records.append({"variant": "bicubic", "scale": scale, **bic_row})
        blocks.append(scale_block(scale, shown, flat_pairs, size=16 * scale))
    legend = "\n".join(f"* `{k}`: {v}" for k, v in VARIANTS.items() if k in args["variants"])
    text = (f"# Upsampler study: results\n\nGenerated by `python scripts/upsampler_study.py` "
            f"(see docs/study.md); do not edit by hand. Runs: `{args['out']}`; training "
            f"overrides: `{args['train']}`; seeds {args['seeds']}; cells are mean ± sd over "
            f"seeds (n = runs).\n\nPSNR / SSIM "
            f"on Y, border = scale, final weights; ckb = checkerboard amplitude in 8-bit grey "
            f"levels (srnet.analysis.checkerboard); MACs per output pixel as executed; the last "
            f"column is the holdout PSNR gained over the last 40 % of the steps (near 0: "
            f"converged).\n\n"
            f"{legend}\n\n" + "\n".join(sections))
    (docs / "study_results.md").write_text(text)
    (docs / "study_results.json").write_text(json.dumps(records, indent=1))
    fig = docs / "figures" / "upsampler_study.png"
    study_figure(blocks).save(fig, optimize=True)
    print(text, f"\nwritten: {docs / 'study_results.md'}, {fig}", sep="\n")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    torch.set_num_threads(max(1, int(args["threads"])))
    out = Path(args["out"])
    runs = {(v, s, n): out / f"x{s}" / v / f"seed{n}"
            for s in args["scales"] for v in args["variants"] for n in args["seeds"]}
    todo = [(v, s, n, d) for (v, s, n), d in runs.items()
            if not (args["reuse"] and finished(d))]
    if todo:
        print(f"training {len(todo)} of {len(runs)} runs", flush=True)
        train_all(todo, args)
    report(args, runs)
    if args["keep"]:
        keep_runs(runs, Path(args["keep"]))


if __name__ == "__main__":
    main()
