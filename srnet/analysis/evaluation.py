"""Evaluation, the one door: a network and the fixed-rule baselines scored on image sets.

``scripts/evaluate.py`` (benchmark sets, the holdout, DIV2K) and ``infer.py mode=evaluate`` (any
files) call this module; the protocol is the one of :mod:`srnet.ops.metrics` and the same as
training's validation (``srnet.ops.scoring.score``), so a checkpoint's ``val/<set>/psnr`` and its
evaluation here agree:

* HR is mod-cropped to a multiple of the scale; LR is the set's given file (``lr="given"``, under
  the ``bicubic`` degradation) or made from HR by a degradation preset (``configs/degradation/``,
  seeded by the image's name: the same LR in every run);
* PSNR / SSIM on Y (BT.601 studio range), ``scale`` pixels of border cropped, the output rounded
  to 8 bit, mean over images. A ``y`` model is scored on its own luma output (as the FSRCNN
  paper's code does), an ``rgb`` model on the Y of its RGB output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import torch
from torch import Tensor

from srnet.data.sources import BSDS500, DIV2K, Holdout, ImageFolder, PairedBenchmark, Record
from srnet.io.pictures import to_tensor
from srnet.io.presets import degradation_preset
from srnet.ops.color import to_net_space
from srnet.ops.degrader import Degrader, seeded
from srnet.ops.resize import BASELINES, mod_crop
from srnet.ops.scoring import score

LR_MODES = ("given", "make")
PROTOCOL = (
    "PSNR (dB) / SSIM on the Y channel (ITU-R BT.601, studio range 16-235), a border of `scale` "
    "pixels cropped, SR output rounded to 8 bit, mean over the images of each set; HR "
    "mod-cropped to a multiple of the scale. LR: {lr_note}. Baselines: nearest; bilinear "
    "(align_corners=False); bicubic (antialiased kernel, a = -0.5, as MATLAB imresize).")
GIVEN = "the set's own LR files (MATLAB imresize bicubic)"
MADE = ("made from HR by srnet's degradation presets (configs/degradation/: bicubic = antialiased "
        "bicubic, a = -0.5, rounded to 8 bit; the random ones seeded by each image's name)")
Scorer = Callable[[Tensor], Tensor]  # LR in the net's space (1, C, h, w) -> SR (1, C, sh, sw)


def protocol_text(lr: str) -> str:
    """One paragraph stating how the numbers were computed."""
    return PROTOCOL.format(lr_note=GIVEN if check_lr_mode(lr) == "given" else MADE)


def check_lr_mode(lr: str) -> str:
    if lr not in LR_MODES:
        raise ValueError(f"lr={lr!r}: choose one of {LR_MODES}")
    return lr


def dataset_source(data_root: str | Path, name: str, scale: int, lr: str = "given"):
    """The source of an evaluation set by name, looked up under ``data_root``.

    ``holdout`` is every 10th image of T91 + BSDS500 train (the training recipes' validation
    split); ``DIV2K`` (or ``DIV2K_valid``) DIV2K's validation split in ``data_root[/DIV2K]``;
    a folder path is its images (HR only); any other name a paired benchmark set in
    ``data_root/benchmark/<name>`` or ``data_root/<name>``.
    """
    root, use_lr = Path(data_root).expanduser(), check_lr_mode(lr) == "given"
    if name == "holdout":
        return Holdout([ImageFolder(root / "T91"), BSDS500(root, "train")], part="val")
    if name.lower() in ("div2k", "div2k_valid"):
        div2k = root / "DIV2K" if (root / "DIV2K").is_dir() else root
        return DIV2K(div2k, "valid", scale, use_lr=use_lr)
    for folder in (root / "benchmark" / name, root / name):
        if folder.is_dir() and not Path(name).is_absolute():  # root / "/x" would be "/x" itself
            return PairedBenchmark(folder, scale, use_lr=use_lr)
    if Path(name).expanduser().is_dir():
        return ImageFolder(Path(name).expanduser())
    raise FileNotFoundError(f"datasets: no set {name!r} under {root} (looked for "
                            f"{root / 'benchmark' / name} and {root / name}), nor a folder {name}")


def make_lr(hr: Tensor, scale: int, degradation: dict | str, key: str) -> Tensor:
    """LR of mod-cropped HR (1, 3, sh, sw) by a preset, seeded by ``key`` (the image)."""
    spec = degradation_preset(degradation)
    return Degrader(spec)(hr, scale, seeded(f"{spec.get('name')}/{key}"))


def load_pair(rec: Record, scale: int, lr: str = "given",
              degradation: dict | str = "bicubic") -> tuple[Tensor, Tensor]:
    """LR (1, 3, h, w) and mod-cropped HR (1, 3, s*h, s*w), float RGB in [0, 1]. ``lr="given"``
    takes the record's LR file, which is a bicubic one: with another degradation LR is made."""
    hr = mod_crop(to_tensor(rec.load_hr()), scale)
    if check_lr_mode(lr) == "make" or degradation_preset(degradation).get("name") != "bicubic":
        return make_lr(hr, scale, degradation, str(rec.name)), hr
    if rec.lr is None:
        raise ValueError(f"{rec.hr}: no LR file to use with lr=given; use lr=make")
    low = to_tensor(rec.load_lr())
    if tuple(low.shape[-2:]) != (hr.shape[-2] // scale, hr.shape[-1] // scale):
        raise ValueError(f"{rec.lr}: LR is {low.shape[-1]}x{low.shape[-2]}, HR {rec.hr} mod-cropped "
                         f"to x{scale} is {hr.shape[-1]}x{hr.shape[-2]}")
    return low, hr


def score_images(pairs: Iterable[tuple[str, Tensor, Tensor]], scale: int,
                 models: dict[str, tuple[Scorer, str]] | None = None,
                 methods: Sequence[str] = BASELINES) -> list[tuple[str, dict]]:
    """Per image ``(name, {method: (psnr, ssim)})`` for (name, LR, HR) pairs; ``models`` maps a
    row name to (scorer, colour mode)."""
    out = []
    for name, low, hr in pairs:
        row = {m: (float(v["psnr"]), float(v["ssim"]))
               for m, v in score(None, low, hr, scale, methods).items() if m != "model"}
        for label, (run, mode) in (models or {}).items():
            with torch.no_grad():
                sr = run(to_net_space(low, mode)).to(hr.device)
            got = score(sr, low, hr, scale, methods=())["model"]
            row[label] = (float(got["psnr"]), float(got["ssim"]))
        out.append((name, row))
    return out


def evaluate(net: torch.nn.Module | dict | None, records: Iterable[Record], scale: int,
             lr: str = "given", degradation: dict | str = "bicubic",
             methods: Sequence[str] = BASELINES,
             device: str | torch.device = "cpu") -> dict[str, dict[str, float]]:
    """Mean scores over ``records``: ``{method: {"psnr", "ssim", "images"}}``.

    ``net``: a network with ``cfg.scale`` and ``cfg.color_mode`` (row ``model``), a dict of
    them by row name, or None (baselines only); ``lr``: ``given`` (the records' LR files, under
    ``bicubic``) or ``make``; ``degradation``: a preset name or dict (:mod:`srnet.ops.degrader`).
    """
    nets = {} if net is None else net if isinstance(net, dict) else {"model": net}
    for label, n in nets.items():
        if n.cfg.scale != scale:
            raise ValueError(f"{label} is for x{n.cfg.scale}, asked to evaluate at x{scale}")
    models = {label: (n.to(device).eval(), n.cfg.color_mode) for label, n in nets.items()}

    def pairs():
        for rec in records:
            low, hr = load_pair(rec, scale, lr, degradation)
            yield str(rec.name), low.to(device), hr.to(device)

    return mean_rows(score_images(pairs(), scale, models, methods))


def mean_rows(rows: list[tuple[str, dict]]) -> dict[str, dict[str, float]]:
    """``{method: {"psnr", "ssim", "images"}}`` from :func:`score_images` rows."""
    if not rows:
        raise ValueError("evaluate: no images")
    n = len(rows)
    return {m: {"psnr": sum(r[m][0] for _, r in rows) / n, "ssim": sum(r[m][1] for _, r in rows) / n,
                "images": n} for m in rows[0][1]}


def evaluate_sets(nets: dict[str, torch.nn.Module], data_root: str | Path, datasets: Sequence[str],
                  scales: Sequence[int], degradations: Sequence[str | dict] = ("bicubic",),
                  lr: str = "given", methods: Sequence[str] = BASELINES,
                  device: str | torch.device = "cpu",
                  progress: Callable | None = None) -> list[dict]:
    """Every set x scale x degradation: one row per method (``dataset``, ``scale``,
    ``degradation``, ``method``, ``psnr``, ``ssim``, ``images``); networks score at their scale.
    ``progress(records, desc)`` wraps each set's records (e.g. a tqdm bar)."""
    from srnet.data.preflight import preflight

    rows = []
    for name in datasets:
        for s in scales:
            source = dataset_source(data_root, name, s, lr)
            records = preflight({name: source.records()}, s)[name]
            mode = lr if any(r.lr is not None for r in records) else "make"  # HR-only sets
            here = {label: n for label, n in nets.items() if n.cfg.scale == s}
            for deg in degradations:
                spec = degradation_preset(deg)
                bar = progress(records, f"{name} x{s} {spec['name']}") if progress else records
                scores = evaluate(here or None, bar, s, mode, spec, methods, device)
                rows += [{"dataset": name, "scale": s, "degradation": spec["name"], "method": m,
                          **scores[m]} for m in [*methods, *here] if m in scores]
    return rows


def results_table(rows: list[dict]) -> str:
    """Markdown: a row per method, a column per (dataset, scale[, degradation]), cells
    ``PSNR / SSIM`` (``-`` where not scored)."""
    from srnet.io.tables import markdown_table

    methods = list(dict.fromkeys(r["method"] for r in rows))
    columns = list(dict.fromkeys((r["dataset"], r["scale"], r["degradation"]) for r in rows))
    several = len({c[2] for c in columns}) > 1 or columns and columns[0][2] != "bicubic"
    cell = {(r["method"], r["dataset"], r["scale"], r["degradation"]):
            f"{r['psnr']:.2f} / {r['ssim']:.4f}" for r in rows}
    head = [f"{d} x{s}" + (f" {g}" if several else "") for d, s, g in columns]
    return markdown_table(["method", *head], [[m, *(cell.get((m, *c)) for c in columns)]
                                              for m in methods])


def evaluate_file(model, src: Path) -> dict[str, tuple[float, float]]:
    """``infer.py mode=evaluate`` on one file taken as HR: its LR by the model's training
    degradation (seeded by the name), the model (tiled, as inference runs it) and the baselines:
    ``{method: (psnr, ssim)}``."""
    from srnet.io.images import read_picture
    from srnet.ops.metrics import quantize

    s = model.scale
    hr = read_picture(src).color_tensor()  # (1, C, H, W) in [0, 1]
    hr = quantize(mod_crop(hr.expand(-1, 3, -1, -1), s))  # 8-bit RGB, the protocol's
    if min(hr.shape[-2:]) < 2 * s + 11:
        raise ValueError(f"{src}: {hr.shape[-1]}x{hr.shape[-2]} is too small to score at x{s} "
                         f"(SSIM needs 11x11 pixels after cropping {s} border pixels)")
    low = Degrader(model.degradation)(hr, s, seeded(src.name))  # (1, 3, H/s, W/s)
    ((_, row),) = score_images([(src.name, low, hr)], s,
                               {"model": (model.forward_tiled, model.color_mode)})
    return row


def evaluate_inputs(cfg) -> int:
    """``infer.py mode=evaluate`` for a composed ``configs/infer.yaml``: a table of every input's
    scores and their mean; exit code 0, 1 (some files failed) or 2 (a usage error)."""
    import sys

    from tqdm.auto import tqdm

    from srnet.app.inputs import is_video_file, list_inputs
    from srnet.infer.models import load_model
    from srnet.io.tables import markdown_table

    try:
        files = list_inputs(cfg.input)
        model = load_model(str(cfg.ckpt_path or f"x{cfg.scale or 2}"), cfg.device,
                           cfg.precision, cfg.tile, cfg.progress)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    rows, failures = [], []
    for src in tqdm(files, desc="files", unit="file", disable=None if cfg.progress else True):
        try:
            if is_video_file(src):
                raise ValueError(f"{src}: mode=evaluate scores still images; use mode=upscale")
            rows.append((src.name, evaluate_file(model, src)))
        except (OSError, ValueError) as e:
            failures.append((src, str(e)))
    methods = ["model", *BASELINES]
    print(f"\nY-PSNR (dB) / SSIM, border {model.scale} px, LR made by "
          f"{model.degradation['name']} degradation of the inputs:")
    table = [[name, *(f"{sc[m][0]:.2f} / {sc[m][1]:.4f}" for m in methods)] for name, sc in rows]
    if rows:
        mean = mean_rows(rows)
        table.append([f"mean of {len(rows)}",
                      *(f"{mean[m]['psnr']:.2f} / {mean[m]['ssim']:.4f}" for m in methods)])
    print(markdown_table(["image", *methods], table))
    print(f"\nsummary: {len(rows)} of {len(files)} image(s) scored; {len(failures)} failed")
    for src, msg in failures:
        print(f"  FAILED {src}: {msg}")
    return 1 if failures else 0
