"""Loading and saving trained networks: Lightning checkpoints, plain weight files, bundled weights.

Three kinds of source, all self-describing (architecture, scale, colour mode and the degradation the
network was trained for travel with the weights):

* a Lightning ``.ckpt`` written by ``train.py`` (``state_dict`` keys prefixed ``net.``, the
  architecture under ``checkpoint["srnet"]``, see ``SRSystem.on_save_checkpoint``);
* a plain ``.pt`` weights file ``{"format": 1, "net": <FSRCNNConfig dict>, "degradation": ...,
  "state_dict": <network state dict>}`` written by :func:`save_weights`;
* a bundled name: ``"x2"`` / ``"x3"`` / ``"x4"`` (clean inputs, ``srnet/weights/fsrcnn_x<s>.pt``)
  or ``"x2-real"`` / ``"x3-real"`` / ``"x4-real"`` (compressed, noisy, blurred photos,
  ``srnet/weights/fsrcnn_x<s>_real.pt``).

Files are read with ``torch.load(weights_only=True)`` (no arbitrary code runs while unpickling) and
weights are loaded with ``strict=True``. Export a checkpoint to a plain weights file with
``python -m srnet.io.checkpoints run.ckpt weights.pt``.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import torch
from torch import nn

from srnet.io.files import write_atomic
from srnet.nets.fsrcnn import FSRCNN, build_net
from srnet.nets.overparam import collapse_state

FORMAT = 1
WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
BUNDLED = ("x2", "x3", "x4", "x2-real", "x3-real", "x4-real")


class CheckpointError(ValueError):
    """A file that is not a usable srnet checkpoint, or one that does not match what was asked."""


def describe(net_cfg: dict) -> str:
    """One line for messages, e.g. ``x3 FSRCNN on Y (d=56, s=12, m=4, deconv tail k=9)``."""
    space = "Y" if net_cfg.get("color_mode") == "y" else str(net_cfg.get("color_mode")).upper()
    tail, k = net_cfg.get("tail", "deconv"), net_cfg.get("tail_kernel")
    return (f"x{net_cfg.get('scale')} {str(net_cfg.get('arch', 'fsrcnn')).upper()} on {space} "
            f"(d={net_cfg.get('d')}, s={net_cfg.get('s')}, m={net_cfg.get('m')}, {tail} tail"
            f"{f' k={k}' if k else ''})")


def bundled_path(name: str) -> Path:
    """``"x3"`` -> ``srnet/weights/fsrcnn_x3.pt``; a clear error while those weights do not exist."""
    if name not in BUNDLED:
        raise CheckpointError(f"unknown bundled model {name!r}; choose one of {BUNDLED}")
    path = WEIGHTS_DIR / f"fsrcnn_{name.replace('-', '_')}.pt"
    if not path.is_file():
        raise FileNotFoundError(f"no bundled weights for {name} yet ({path} does not exist): a "
                                f"checkpoint is needed, pass ckpt_path=<run.ckpt or weights.pt> "
                                f"(train one with `python train.py scale={name[1:2]}`)")
    return path


def resolve(source: str | os.PathLike) -> Path:
    """A bundled name or a path -> an existing file, or ``FileNotFoundError`` naming it."""
    if isinstance(source, str) and source in BUNDLED:
        return bundled_path(source)
    path = Path(source).expanduser()
    if path.is_dir():
        raise CheckpointError(f"ckpt_path={path} is a folder; give a .ckpt or .pt file")
    if not path.is_file():
        raise FileNotFoundError(f"ckpt_path={path}: no such file (or a bundled name: {BUNDLED})")
    return path


def _summary(obj) -> str:
    if isinstance(obj, dict):
        keys = list(obj)
        if keys and all(torch.is_tensor(v) for v in obj.values()):
            return f"a bare state dict of {len(keys)} tensors (e.g. {keys[0]!r}) with no architecture"
        return f"a dict with keys {keys[:8]}{' ...' if len(keys) > 8 else ''}"
    return f"a {type(obj).__name__}"


def _sentences(line: str) -> str:
    """The first whole sentences of ``line`` (about 200 characters), without torch's asides."""
    out, parts = "", re.split(r"(?<=\.)\s+", line.strip())
    while parts and not re.search(r"internal .*error|you are seeing", parts[0]) and (
            not out or len(out + parts[0]) <= 200):
        out = f"{out} {parts.pop(0)}".strip()
    return out.rstrip(".")


def _load_failure(e: Exception) -> str:
    """Why ``torch.load(weights_only=True)`` failed, in srnet's words: never torch's advice to
    retry with ``weights_only=False`` (that would run whatever code the file holds)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(e))
    if isinstance(e, OSError) or "zip archive" in text:  # torch's zip reader: cut short
        return (f"a PyTorch checkpoint: the file is incomplete or damaged, as a copy or download "
                f"cut short leaves it ({type(e).__name__}: {_sentences(text)})")
    found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
    if found:
        return (f"an srnet checkpoint: it holds pickled Python objects ({found.group(1)}), which "
                f"srnet never loads because unpickling them can run arbitrary code (srnet reads "
                f"tensors and plain containers only)")
    text = text.split("WeightsUnpickler error:", 1)[-1]  # what went wrong, without the advice
    lines = [ln.strip() for ln in text.splitlines()
             if ln.strip() and not re.search(r"weights_only|trust|documentation of torch", ln)]
    return f"a PyTorch checkpoint ({type(e).__name__}: {_sentences((lines or [''])[0])})"


def read(source: str | os.PathLike, map_location="cpu") -> tuple[dict, str, dict, Path]:
    """Read a source -> ``(net_cfg, degradation, net_state_dict, path)``, without building a net."""
    path = resolve(source)
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # corrupt zip, truncated file, text, a pickle of arbitrary objects, ...
        raise CheckpointError(f"{path} cannot be read as {_load_failure(e)}; expected a .ckpt "
                              f"from train.py or a .pt from srnet.io.checkpoints.save_weights") from e
    hint = ("not an srnet checkpoint: expected a .ckpt written by train.py (with an 'srnet' entry) "
            "or a .pt written by srnet.io.checkpoints.save_weights")
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path} holds {_summary(obj)}; {hint}")
    if "srnet" in obj and "state_dict" in obj:  # Lightning checkpoint written by SRSystem
        meta, state = obj["srnet"], obj["state_dict"]
    elif "net" in obj and "state_dict" in obj and "format" in obj:  # plain weights file
        meta, state = obj, obj["state_dict"]
    elif isinstance(obj.get("hyper_parameters"), dict) and "net" in obj["hyper_parameters"]:
        meta, state = obj["hyper_parameters"], obj.get("state_dict", {})  # older Lightning ckpt
    else:
        raise CheckpointError(f"{path} holds {_summary(obj)}; {hint}")
    if int(meta.get("format", FORMAT)) > FORMAT:
        raise CheckpointError(f"{path} has format {meta['format']}; this srnet reads <= {FORMAT}")
    if not isinstance(meta.get("net"), dict) or not isinstance(state, dict):
        raise CheckpointError(f"{path}: the architecture ('net') or the weights are missing")
    if any(k.startswith("net.") for k in state):
        state = {k.removeprefix("net."): v for k, v in state.items()}
    try:  # trained over-parameterised (model.overparam): the plain network's kernels
        state = collapse_state(state)
    except ValueError as e:
        raise CheckpointError(f"{path}: {e}") from e
    return dict(meta["net"]), degradation_spec(meta.get("degradation")), state, path


def degradation_spec(value: object) -> dict:
    """The training degradation as a preset dict (``configs/degradation/``); files written before
    presets existed say ``"bicubic"``."""
    if value is None or isinstance(value, str):
        return {"name": value or "bicubic"}
    if isinstance(value, dict):
        return dict(value)
    raise CheckpointError(f"the degradation entry is {type(value).__name__}, not a preset dict")


def load_net(source: str | os.PathLike, map_location="cpu") -> FSRCNN:
    """Build the network a checkpoint describes and load its weights (``strict=True``).

    Args:
        source: a ``.ckpt`` / ``.pt`` path, or a bundled name ``"x2"``, ``"x3"``, ``"x4"``.
        map_location: passed to ``torch.load``.

    Returns:
        The network in eval mode, with ``net.degradation`` (the training degradation's name) and
        ``net.source`` (the file it came from) attached.
    """
    net_cfg, degradation, state, path = read(source, map_location)
    try:
        net = build_net(net_cfg)
    except ValueError as e:
        raise CheckpointError(f"{path} describes a network srnet cannot build: {e}") from e
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise CheckpointError(f"{path}: the weights do not match the architecture it declares "
                              f"({describe(net.cfg.to_dict())}): {str(e)[:500]}") from e
    net.degradation, net.source = degradation, str(path)
    return net.eval()


def trained_steps(path: str | os.PathLike) -> int | None:
    """The optimiser steps a Lightning checkpoint records (None: no such file)."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        return int(torch.load(path, map_location="cpu", weights_only=True).get("global_step", 0))
    except Exception as e:  # corrupt or not a checkpoint
        raise CheckpointError(f"{path} cannot be read as {_load_failure(e)}") from e


def check_compatible(net_cfg: dict, expected: dict, source: str | os.PathLike = "the checkpoint"
                     ) -> None:
    """Refuse (:class:`CheckpointError`, key by key) a checkpoint ``net_cfg`` (an
    ``FSRCNNConfig`` dict) that differs from ``expected``, e.g. ``{"scale": 2, "color_mode":
    "y"}`` (``None`` values are not checked); ``source`` names it in the message."""
    diffs = [f"{k}={v!r} was asked but the checkpoint has {k}={net_cfg.get(k)!r}"
             for k, v in expected.items() if v is not None and net_cfg.get(k) != v]
    if diffs:
        raise CheckpointError(f"{source} holds an {describe(net_cfg)}; " + "; ".join(diffs)
                              + ". Drop the conflicting setting or use a matching checkpoint.")


def save_weights(net: nn.Module, path: str | os.PathLike,
                 degradation: dict | str | None = None) -> Path:
    """Write ``net`` (an FSRCNN, or an object with one as ``.net``, e.g. the Lightning system) to
    ``path`` as a plain ``.pt`` weights file, atomically (a temporary file, then a rename), with
    ``degradation`` (default ``net.degradation`` or ``"bicubic"``)."""
    if not isinstance(net, FSRCNN) and isinstance(getattr(net, "net", None), FSRCNN):
        degradation = degradation or getattr(net, "hparams", {}).get("degradation")
        net = net.net
    if not isinstance(net, FSRCNN):
        raise TypeError(f"save_weights needs an srnet FSRCNN, got {type(net).__name__}")
    degradation = degradation_spec(degradation or getattr(net, "degradation", None))
    state = {k: (v.detach().float() if v.is_floating_point() else v.detach()).cpu().clone()
             for k, v in collapse_state(net.state_dict()).items()}
    payload = {"format": FORMAT, "net": net.cfg.to_dict(), "degradation": degradation,
               "state_dict": state}
    return write_atomic(lambda tmp: torch.save(payload, tmp), path)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m srnet.io.checkpoints <run.ckpt | weights.pt | x2> <out.pt>")
    if Path(sys.argv[2]).exists():
        sys.exit(f"{sys.argv[2]} exists; not overwriting it")
    loaded = load_net(sys.argv[1])
    out = save_weights(loaded, sys.argv[2])
    print(f"{out}: {describe(loaded.cfg.to_dict())}, degradation {loaded.degradation['name']}, "
          f"{out.stat().st_size / 1024:.1f} KiB")
