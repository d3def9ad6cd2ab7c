"""Setting a video output up from the input's first decoded frame (:class:`VideoJob`'s start).

The network and output size are chosen for the picture as it is displayed (``width=`` of a
portrait phone video is the width you see), the size is rounded up to what the pixel format's
chroma subsampling needs (even for 4:2:0, with a warning), and the new stream gets the input's
frame rate, time base, rotation, sample aspect ratio, colour tags, metadata and disposition.
Copied streams keep their metadata and disposition; MKV attachments (fonts) are carried over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from srnet.app.videoio import Colour, add_copy, chroma_steps, clean_tags, output_pix_fmt
from srnet.infer.resize import OutputSize

log = logging.getLogger("srnet.infer")


@dataclass
class VideoInput:
    """What the output is started from: the opened input and how it is carried over."""

    av: object  # the PyAV module
    src: Path
    vin: object  # the input video stream
    metadata: dict
    carried: list  # streams copied packet for packet
    attachments: list
    muxer: str


@dataclass
class VideoOutput:
    """What :func:`start_output` decided and opened."""

    model: object  # the Upscaler
    out_w: int
    out_h: int
    pix_fmt: str
    dec: Colour
    enc: Colour
    describe_in: str
    vout: object  # the new video stream
    copies: dict  # input stream index -> output stream
    tick: int  # pts per frame when a frame has no duration


def start_output(i: VideoInput, out, frame, choose: Callable, size: OutputSize, settings,
                 text: Callable) -> VideoOutput:
    """Choose model, size, pixel format and colour for ``frame`` (the first decoded one); add
    every output stream to the container ``out`` and start encoding. ``choose(w, h)`` gives
    (model, source), ``text(model, source, in_wh, out_wh)`` the provenance (or None)."""
    av, vin, vj = i.av, i.vin, i
    rotation = int(getattr(frame, "rotation", 0) or 0)
    w, h, turned = frame.width, frame.height, rotation % 180 != 0
    model, source = choose(*((h, w) if turned else (w, h)))
    ow, oh = size.size(*((h, w) if turned else (w, h)), model.scale)
    ow, oh = (oh, ow) if turned else (ow, oh)  # back to stored orientation
    dec = Colour.of(frame)
    bits = max(c.bits for c in frame.format.components)
    pix_fmt = output_pix_fmt(av, settings.codec, frame.format.name, bits, settings.pix_fmt)
    sx, sy = chroma_steps(pix_fmt, av)
    fit = (-(-ow // sx) * sx, -(-oh // sy) * sy)
    if fit != (ow, oh):
        log.warning("%s: %s needs sizes in multiples of %dx%d: writing %dx%d, not %dx%d",
                    vj.src, pix_fmt, sx, sy, *fit, ow, oh)
    out_w, out_h = fit
    enc = dec.for_output(av, pix_fmt, out_h)
    if any(c.is_alpha for c in frame.format.components):
        log.warning("%s: the alpha channel of %s is dropped", vj.src, frame.format.name)
    if getattr(frame, "interlaced_frame", False):
        log.warning("%s is interlaced: frames are upscaled as progressive pictures; "
                    "deinterlace it first for a clean result", vj.src)
    describe_in = (f"{w}x{h} {frame.format.name}"
                      f"{f' rotated {rotation}' if rotation else ''}, {len(vj.carried)} stream(s) "
                      f"copied")

    rate = vin.average_rate or vin.guessed_rate or vin.base_rate
    vout = out.add_stream(settings.codec, rate=rate)
    vout.width, vout.height, vout.pix_fmt = out_w, out_h, pix_fmt
    vout.time_base = vout.codec_context.time_base = vin.time_base
    vout.options = settings.options()
    enc.tag(vout)
    sar = vin.codec_context.sample_aspect_ratio
    if sar and not (size.width and size.height):  # both set: square pixels
        vout.codec_context.sample_aspect_ratio = sar
    if rotation:
        if hasattr(vout, "set_display_rotation"):
            vout.set_display_rotation(rotation)
        else:
            log.warning("%s: this PyAV cannot write rotation metadata (%d degrees); upgrade av",
                        vj.src, rotation)
    vout.metadata.update(clean_tags(dict(vin.metadata)))
    _copy_disposition(vin, vout)

    copies = {}
    for s in vj.carried:
        o = add_copy(out, s)
        o.metadata.update(clean_tags(dict(s.metadata)))
        _copy_disposition(s, o)
        copies[s.index] = o
    for s in vj.attachments:
        if vj.muxer == "matroska" and hasattr(out, "add_attachment"):
            out.add_attachment(s.metadata.get("filename", f"attachment{s.index}"),
                               s.metadata.get("mimetype") or getattr(s, "mimetype", None)
                               or "application/octet-stream", bytes(s.data))
        else:
            log.warning("%s: attachment %s dropped (%s holds none)", vj.src,
                        s.metadata.get("filename", f"#{s.index}"), vj.muxer)

    tags = clean_tags(dict(vj.metadata))
    note = text(model, source, (w, h), (out_w, out_h))
    if note:
        tags["comment"] = "; ".join(t for t in (tags.get("comment"), note["Description"]) if t)
    out.metadata.update(tags)
    try:
        out.start_encoding()  # opens the encoder and writes the header
    except Exception as e:  # options the encoder refuses show up here
        v = settings
        raise ValueError(f"{vj.src}: the encoder refused video.codec={v.codec} video.crf={v.crf} "
                         f"video.preset={v.preset} video.pix_fmt={pix_fmt} at {out_w}x"
                         f"{out_h}: {e}") from e
    tick = max(1, round(1 / float(rate * vin.time_base))) if rate and vin.time_base else 1
    return VideoOutput(model, out_w, out_h, pix_fmt, dec, enc, describe_in, vout, copies, tick)


def _copy_disposition(src, dst) -> None:
    try:
        dst.disposition = src.disposition
    except (AttributeError, TypeError):  # older PyAV
        pass
