"""Benchmarks: inference speed against OpenCV and bicubic, and training throughput.

    python scripts/benchmark.py part=infer device=cpu out=results/benchmark.json
    python scripts/benchmark.py part=all device=cuda out=results/benchmark_gpu.json

Keys (``key=value``, lists as ``[a,b]``):

* ``part``      ``infer`` (:mod:`srnet.benchmarks.infer_speed`), ``shapes`` (network shapes and
  the tiny-SR peers per image on real photos, :mod:`srnet.benchmarks.shapes`; the first of
  ``folders`` holds the photos, default BSD100's LR), ``first`` (``load_model(...).upscale`` over 20 photos of 20 sizes: first pass, warm pass,
  OpenCV, :mod:`srnet.benchmarks.first_pass`), ``encode`` (PNG levels 1 / 3 / 6 and filters: time and size, :mod:`srnet.benchmarks.encode`), ``modes`` (the deployed executions per LR size against the
  rule that picks one, :mod:`srnet.benchmarks.modes`), ``profile`` (per-layer CPU
  time at LR 640x360, :mod:`srnet.benchmarks.infer_profile`), ``folder`` (``infer.py`` on
  folders of photos against an OpenCV script and ECBSR in eager PyTorch, whole processes,
  :mod:`srnet.benchmarks.infer_folder`; ``folders`` picks them: ``mixed``, ``bsd100``, ``big`` or
  paths), ``train``
  (old vs new training forward per scale, each fit in a fresh process,
  :mod:`srnet.benchmarks.train_forward`, then data
  paths and precisions, :mod:`srnet.benchmarks.train_speed`), ``memory`` (peak resident memory
  of ``infer.py`` on generated large images against their input and output arrays,
  :mod:`srnet.benchmarks.infer_memory`; not part of ``all``) or ``all``
* ``device``    ``cpu`` or ``cuda``
* ``out``       JSON file for the results (default ``results/benchmark.json``)
* ``scales``    SR factors for ``infer`` and ``train`` (default ``[2,3,4]``)
* ``sizes``     LR sizes for ``infer`` as ``[[H,W],...]`` (default 256x256, 640x360, 1920x1080);
  image sizes for ``memory`` (default ``[[3000,4000],[9000,12000]]``, x the first of ``scales``)
* ``methods``   ``infer``: only the methods whose names contain one of these words, e.g.
  ``[user,opencv]`` (default: all)
* ``repeats``   timed calls per method for ``infer`` (default 7; median and minimum reported),
  timed runs per command for ``folder``
* ``threads``   CPU threads (default: all cores)
* ``ckpt_path`` time this checkpoint instead of the bundled (or random) weights
* ``bf16``      include the bf16 path in ``infer`` (default: on CUDA or CPUs with native bf16;
  on CUDA ``infer`` also times fp16 and fp16 replayed as a CUDA graph)

Prints a Markdown table per part and writes everything to ``out``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from kvargs import parse_kv

PARTS = ("infer", "profile", "folder", "first", "train", "shapes", "modes", "memory", "encode",
         "all")
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def defaults() -> dict:
    return {"part": "infer", "device": "cpu", "out": "results/benchmark.json",
            "scales": [2, 3, 4], "sizes": None, "methods": None, "repeats": 7, "threads": None,
            "ckpt_path": None, "bf16": None, "folders": None}


def parse_args(argv: list[str]) -> dict:
    args = parse_kv("benchmark.py", defaults(), argv)
    if args["part"] not in PARTS:
        raise SystemExit(f"benchmark.py: part={args['part']!r}; choose one of {PARTS}")
    if args["device"] not in ("cpu", "cuda"):
        raise SystemExit(f"benchmark.py: device={args['device']!r}; choose cpu or cuda")
    if isinstance(args["scales"], int):
        args["scales"] = [args["scales"]]
    return args


def run_infer(args: dict) -> dict:
    from srnet.benchmarks import infer_speed, infer_tables

    sizes = [tuple(hw) for hw in args["sizes"]] if args["sizes"] else None
    result = infer_speed.run(args["device"], args["scales"], sizes, repeats=int(args["repeats"]),
                             threads=args["threads"], ckpt=args["ckpt_path"], bf16=args["bf16"],
                             only=args["methods"])
    print(f"\n## Inference ({result['machine']}, {result['threads']} threads, "
          f"load average {result['load_average_before'][0]:.1f} -> "
          f"{result['load_average_after'][0]:.1f})\n")
    print("Output megapixels/s (ms per image), best of", result["repeats"], "runs:\n")
    print(infer_tables.table(result))
    print("\nThe user path against OpenCV and ECBSR-M4C16 (ms per image; first call: the warm-up "
          "round, a new size for every method):\n")
    print(infer_tables.side_by_side(result))
    weights = sorted({r["weights"] for r in result["rows"]})
    print("\nweights:", "; ".join(weights))
    for note in result["notes"]:
        print("note:", note)
    return result


def run_profile(args: dict) -> list[dict]:
    from srnet.benchmarks import infer_profile

    results = []
    for s in args["scales"]:
        result = infer_profile.profile(s, repeats=int(args["repeats"]), ckpt=args["ckpt_path"])
        print(f"\n## Per-layer profile, x{s}, LR {result['lr']} ({result['weights']})\n")
        print(infer_profile.table(result))
        results.append(result)
    return results


def run_folder(args: dict) -> list[dict]:
    from srnet.benchmarks import infer_folder
    from srnet.benchmarks.peers import cpu_name

    results = []
    for kind in args["folders"] or ["mixed", "bsd100", "big"]:
        for s in args["scales"]:
            results.append(infer_folder.run(str(kind), int(s), int(args["repeats"])))
            print(infer_folder.table(results[-1:]), flush=True)
    print(f"\n## Folders through whole processes, PNG in and out ({cpu_name()})\n")
    print(infer_folder.table(results))
    return results


def run_shapes(args: dict) -> list[dict]:
    from srnet.benchmarks import shapes

    results = []
    for s in args["scales"]:
        folder = Path((args["folders"] or [None])[0] or DATA / "benchmark" / "BSD100" / f"X{s}" / "LR")
        result = shapes.run(folder, int(s), None, args["threads"])
        print(f"\n## Network shapes per image, x{s}, {result['rows'][0]['images']} photos of"
              f" {folder} ({result['machine']})\n")
        print(shapes.table(result))
        results.append(result)
    return results


def run_modes(args: dict) -> list[dict]:
    from srnet.benchmarks import modes
    from srnet.benchmarks.shapes import SHAPES

    results = []
    for s in args["scales"]:
        for name in ("classic d56 s12 m4", "slim d16 m4"):
            result = modes.run({"scale": int(s), **SHAPES[name]}, args["threads"])
            print(f"\n## Deployed executions per LR size, x{s}, {name} ({result['machine']})\n")
            print(modes.table(result))
            results.append(result)
    return results


def run_memory(args: dict) -> dict:
    from srnet.benchmarks import infer_memory

    sizes = [(w, h) for h, w in args["sizes"]] if args["sizes"] else infer_memory.SIZES
    result = infer_memory.run(sizes, int(args["scales"][0]))
    print(f"\n## Peak resident memory of infer.py ({result['machine']}, load average "
          f"{result['load_average']:.1f})\n")
    print(infer_memory.table(result))
    return result


def run_first(args: dict) -> list[dict]:
    from srnet.benchmarks import first_pass

    results = first_pass.run([int(s) for s in args["scales"]])
    print(f"\n## First pass and warm pass over 20 photos of 20 sizes ({results[0]['machine']})\n")
    print(first_pass.table(results))
    return results


def run_encode(args: dict) -> dict:
    from srnet.benchmarks import encode

    folder = Path((args["folders"] or [None])[0] or DATA / "benchmark" / "Set14" / "X2" / "HR")
    result = encode.run(folder)
    print(f"\n## PNG settings on {result['images']} photos ({result['mp']:.1f} MP) of {folder} "
          f"({result['machine']})\n")
    print(encode.table(result))
    return result


def run_train(args: dict) -> dict:
    from srnet.benchmarks import train_forward, train_speed

    scales = tuple(args["scales"])
    rows = train_forward.compare_forwards(device=args["device"], scales=scales)
    print(f"\n## Training forward, old and new ({rows[0]['device']}, {rows[0]['threads']} "
          f"threads, FSRCNN d=56 s=12 m=4, batch 64 of 32x32 LR, Adam, fp32 unless a row says bf16, each fit a fresh "
          f"process, best of {len(rows[0]['rounds'])} interleaved rounds)\n")
    print(train_forward.forward_table(rows))
    paths = train_speed.run(device=args["device"], scale=scales[0])
    for preset in ("photo", "realesrgan"):  # what a degradation adds to a step
        paths += train_speed.run(device=args["device"], scale=scales[0], paths=("dataloader",),
                                 precisions=["32-true"], degradation=preset)
    print("\n## Training data paths, precisions and degradations\n")
    print(train_speed.table(paths))
    return {"forwards": rows, "rows": paths}


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    results = {"args": args}
    if args["part"] in ("infer", "all"):
        results["infer"] = run_infer(args)
    if args["part"] in ("profile", "all"):
        results["profile"] = run_profile(args)
    if args["part"] in ("folder", "all"):
        results["folder"] = run_folder(args)
    if args["part"] in ("train", "all"):
        results["train"] = run_train(args)
    if args["part"] in ("shapes", "all"):
        results["shapes"] = run_shapes(args)
    if args["part"] in ("modes", "all"):
        results["modes"] = run_modes(args)
    if args["part"] == "memory":
        results["memory"] = run_memory(args)
    if args["part"] in ("first", "all"):
        results["first"] = run_first(args)
    if args["part"] in ("encode", "all"):
        results["encode"] = run_encode(args)
    out = Path(args["out"])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nwrote {out}")
    return results


if __name__ == "__main__":
    main()
