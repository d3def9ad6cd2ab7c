"""Every upsampling technique on one picture: a labelled figure and a Y-PSNR / SSIM table.

    python scripts/upsampling_gallery.py                       # chelsea (scikit-image), x3
    python scripts/upsampling_gallery.py input=photo.png scale=2 ckpt_path=model.ckpt

The image is mod-cropped to the scale, shrunk with srnet's degradation (antialiased bicubic, 8 bit)
and enlarged again by nearest, bilinear, bicubic, bed of nails, max-unpooling, a transposed
convolution with a fixed bilinear kernel and, when weights are available, a trained srnet model.
Max-unpooling takes its positions from max-pooling the HR image: an oracle that a real SR system
does not have. Scores: Y-PSNR / SSIM on the whole image, border of ``scale`` pixels cropped.

Keys (``key=value``):

* ``input``      an image file; null: the embedded sample ``sample`` (``chelsea`` or ``camera``)
* ``scale``      2, 3 or 4 (default 3)
* ``ckpt_path``  a checkpoint for the model column; null: ``srnet/weights/fsrcnn_x<scale>.pt`` if
  present, else the column is skipped with a note
* ``crop``, ``crop_x``, ``crop_y``  crop size and top-left corner in HR pixels (null corner: a
  hand-picked one for the samples, else the most detailed window), ``zoom`` (nearest enlargement
  of the crops in the figure)
* ``out_dir``    default ``results/gallery``; ``overwrite=true`` to replace earlier outputs

Writes ``<out_dir>/gallery_<name>_x<scale>.png`` and ``.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from kvargs import parse_kv
from PIL import Image, ImageDraw, ImageFont
from torch import Tensor

from srnet.analysis import upsampling
from srnet.data.sources import SAMPLE_SPLITS, SampleImages
from srnet.io.images import read_rgb, save_atomic, to_uint8
from srnet.io.pictures import to_tensor
from srnet.io.tables import markdown_table
from srnet.ops.color import rgb_to_y
from srnet.ops.metrics import psnr, ssim
from srnet.ops.reference import super_resolve
from srnet.ops.resize import bicubic_down, mod_crop

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = Path(upsampling.__file__).parent / "weights"  # bundled fsrcnn_x<scale>.pt
SAMPLES = [Path(n).stem for n in SAMPLE_SPLITS["val"]]
LABELS = {"nearest": "nearest", "bilinear": "bilinear", "bicubic": "bicubic",
          "bed_of_nails": "bed of nails", "max_unpool": "max-unpool (HR oracle)",
          "transposed_bilinear": "transposed conv, bilinear kernel"}
ORACLE_NOTE = ("max-unpool (HR oracle) places each LR pixel where max-pooling the HR image (per "
               "channel) found its block's maximum: an oracle a real SR system does not have.")
FIXED_NOTE = ("Bed of nails and max-unpooling leave all but one pixel of every s x s block at 0. "
              "The transposed conv with a fixed bilinear kernel (stride s, k = 2s - s % 2) is "
              "bilinear interpolation except at the outermost pixels, where it sees zeros beyond "
              "the edge.")
# Hand-picked crop corners (x, y) for the embedded samples: the cat's eye, the cameraman's face.
SAMPLE_CROPS = {"chelsea": (120, 62), "camera": (190, 80)}


def parse_args(argv: list[str]) -> dict:
    """``key=value`` arguments; errors name the key and the allowed ones."""
    args = parse_kv("upsampling_gallery.py", {
        "input": None, "sample": "chelsea", "scale": 3, "ckpt_path": None, "crop": 96,
        "crop_x": None, "crop_y": None, "zoom": 2, "out_dir": "results/gallery",
        "overwrite": False}, argv)
    if args["scale"] not in (2, 3, 4):
        raise SystemExit(f"scale={args['scale']}: choose 2, 3 or 4")
    if args["input"] is None and args["sample"] not in SAMPLES:
        raise SystemExit(f"sample={args['sample']!r}: choose one of {SAMPLES}, or give input=<path>")
    if args["crop"] < 8 or args["zoom"] < 1:
        raise SystemExit(f"crop={args['crop']} must be >= 8 and zoom={args['zoom']} >= 1")
    return args


def load_image(args: dict) -> tuple[str, Tensor]:
    """(name, HR (1, 3, H, W) in [0, 1]) mod-cropped to the scale."""
    if args["input"]:
        path = Path(args["input"])
        name, img = path.stem, read_rgb(path)
    else:
        rec = next(r for r in SampleImages("val").records() if r.name == args["sample"])
        name, img = rec.name, rec.load_hr()
    return name, mod_crop(to_tensor(img), args["scale"])


def load_model(ckpt_path: str | None, scale: int) -> tuple[torch.nn.Module | None, str]:
    """The trained net and its label, or (None, why the model column is skipped)."""
    path = Path(ckpt_path) if ckpt_path else WEIGHTS / f"fsrcnn_x{scale}.pt"
    if not path.is_file():
        if ckpt_path:
            raise SystemExit(f"ckpt_path={ckpt_path}: no such file")
        return None, f"no bundled weights at {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}"
    from srnet.io.checkpoints import load_net

    net = load_net(path, map_location="cpu").eval()
    if net.cfg.scale != scale:
        raise SystemExit(f"{path} holds a x{net.cfg.scale} model; run with scale={net.cfg.scale}")
    return net, f"trained FSRCNN: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}"


def upscale_all(hr: Tensor, scale: int, net: torch.nn.Module | None, net_label: str) -> dict[str, Tensor]:
    """HR (1, 3, H, W) -> {label: SR (1, 3, H, W)} for every technique, HR first."""
    lr = bicubic_down(hr, scale)  # (1, 3, H/s, W/s), 8-bit levels
    _, idx = upsampling.max_pool(hr, scale)  # oracle positions, per channel
    out = {"HR (ground truth)": hr}
    for method in upsampling.METHODS:
        out[LABELS[method]] = upsampling.upsample(lr, scale, method, idx).clamp(0, 1)
    if net is not None:
        out[net_label] = super_resolve(net, lr)
    return out


def pick_crop(hr: Tensor, size: int, x: int | None, y: int | None) -> tuple[int, int]:
    """Top-left (y, x) of the crop: given, or the window with the most gradient energy."""
    h, w = hr.shape[-2:]
    size = min(size, h, w)
    if x is None or y is None:
        lum = rgb_to_y(hr)[0, 0]
        energy = (lum.diff(dim=0)[:, :-1] ** 2 + lum.diff(dim=1)[:-1] ** 2)[None, None]
        window = F.avg_pool2d(energy, size, stride=4)[0, 0]  # (rows, cols) of candidate windows
        best = int(window.argmax())
        y, x = (best // window.shape[1]) * 4, (best % window.shape[1]) * 4
    if not (0 <= x <= w - size and 0 <= y <= h - size):
        raise SystemExit(f"crop_x={x}, crop_y={y} with crop={size} lies outside the {w}x{h} image")
    return y, x


def wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    """Split ``text`` into lines no wider than ``width`` pixels."""
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if line and draw.textlength(trial, font=font) > width:
            lines.append(line)
            trial = word
        line = trial
    return [*lines, line]


def render(images: dict[str, Tensor], scores: dict[str, tuple[float, float]], corner: tuple[int, int],
           size: int, zoom: int, title: str, notes: list[str]) -> Image.Image:
    """Crops in a 4-column grid, label above and Y-PSNR under each, title and notes around."""
    y, x = corner
    panel, pad, cols = size * zoom, 10, 4
    font, small = ImageFont.load_default(15), ImageFont.load_default(13)
    rows = (len(images) + cols - 1) // cols
    cell_h, width = panel + 44, cols * (panel + pad) + pad
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    head = wrap(measure, title, font, width - 2 * pad)
    foot = [ln for note in notes for ln in wrap(measure, note, small, width - 2 * pad)]
    top0 = 12 + 19 * len(head)
    fig = Image.new("RGB", (width, top0 + rows * cell_h + 17 * len(foot) + pad), "white")
    draw = ImageDraw.Draw(fig)
    for i, line in enumerate(head):
        draw.text((pad, 8 + 19 * i), line, fill="black", font=font)
    for k, (label, img) in enumerate(images.items()):
        left, top = pad + (k % cols) * (panel + pad), top0 + (k // cols) * cell_h
        crop = Image.fromarray(to_uint8(img[..., y:y + size, x:x + size]))
        fig.paste(crop.resize((panel, panel), Image.NEAREST), (left, top + 20))
        draw.text((left, top + 2), label, fill="black", font=small)
        p, s = scores[label]
        score = "reference" if label.startswith("HR") else f"Y-PSNR {p:.2f} dB, SSIM {s:.3f}"
        draw.text((left, top + 22 + panel), score, fill="black", font=small)
    for i, line in enumerate(foot):
        draw.text((pad, top0 + rows * cell_h + 17 * i), line, fill="black", font=small)
    return fig


def main(argv: list[str]) -> dict:
    """Make the figure and table; returns their paths and the scores."""
    args = parse_args(argv)
    s = args["scale"]
    name, hr = load_image(args)
    out_dir = Path(args["out_dir"])
    png, md = out_dir / f"gallery_{name}_x{s}.png", out_dir / f"gallery_{name}_x{s}.md"
    existing = [str(p) for p in (png, md) if p.exists()]
    if existing and not args["overwrite"]:
        raise SystemExit(f"{existing} exist; pass overwrite=true to replace them")
    net, net_label = load_model(args["ckpt_path"], s)
    notes = [FIXED_NOTE, ORACLE_NOTE]
    if net is None:
        notes.append(f"No trained model column: {net_label}.")
        print(f"note: model column skipped: {net_label}")
    else:
        notes.append(f"FSRCNN (learned deconv): {net_label}.")
    images = upscale_all(hr, s, net, "FSRCNN (learned deconv)")
    scores = {k: (psnr(v, hr, border=s).item(), ssim(v, hr, border=s).item())
              for k, v in images.items()}
    cx, cy = SAMPLE_CROPS.get(name, (None, None)) if args["input"] is None else (None, None)
    cx = cx if args["crop_x"] is None else args["crop_x"]
    cy = cy if args["crop_y"] is None else args["crop_y"]
    corner = pick_crop(hr, args["crop"], cx, cy)
    size = min(args["crop"], *hr.shape[-2:])
    h, w = hr.shape[-2:]
    title = (f"{name}: {w}x{h} shrunk x{s} to {w // s}x{h // s} (bicubic, 8 bit) and enlarged "
             f"again. Crop {size}x{size} at x={corner[1]}, y={corner[0]}, shown x{args['zoom']}. "
             f"Scores on the whole image, Y, border {s}.")
    fig = render(images, scores, corner, size, args["zoom"], title, notes)
    rows = [[k, f"{p:.2f}", f"{q:.4f}"] for k, (p, q) in scores.items() if not k.startswith("HR")]
    cmd = "python scripts/upsampling_gallery.py " + " ".join(argv)
    table = "\n".join([f"`{cmd.strip()}`: {name}, x{s}, whole image, Y, border {s}.", "",
                       markdown_table(["method", "Y-PSNR (dB)", "SSIM"], rows), "",
                       "\n\n".join(notes)]) + "\n"
    save_atomic(fig, png, overwrite=args["overwrite"], optimize=True)
    md.write_text(table)
    print(table, end="")
    print(f"wrote {png} and {md}")
    return {"png": png, "md": md, "scores": scores, "model": net is not None}


if __name__ == "__main__":
    main(sys.argv[1:])
