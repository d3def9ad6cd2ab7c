"""Setting a video output up from the input's first decoded frame (:class:`VideoJob`'s start).

The network and output size are chosen for the picture as it is displayed (``width=`` of a
portrait phone video is the width you see), the size is rounded up to what the pixel format's
chroma subsampling needs (even for 4:2:0, with a warning), and the new stream gets the input's
frame rate, time base, rotation, sample aspect ratio, colour tags, metadata and disposition.
Copied streams keep their metadata and disposition; MKV attachments (fonts) are carried over.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from srnet.infer.videoio import Colour, add_copy, chroma_steps, clean_tags, output_pix_fmt

if TYPE_CHECKING:
    from srnet.infer.video import VideoJob

log = logging.getLogger("srnet.infer")


def start_output(vj: VideoJob, frame) -> None:
    """Choose model, size, pixel format and colour; add every output stream to ``vj.out``."""
    av, vin, out, job = vj.av, vj.vin, vj.out, vj.job
    rotation = int(getattr(frame, "rotation", 0) or 0)
    w, h, turned = frame.width, frame.height, rotation % 180 != 0
    vj.model, source = job.bank.choose(*((h, w) if turned else (w, h)))
    ow, oh = job.size.size(*((h, w) if turned else (w, h)), vj.model.scale)
    ow, oh = (oh, ow) if turned else (ow, oh)  # back to stored orientation
    vj.dec = Colour.of(frame)
    bits = max(c.bits for c in frame.format.components)
    vj.pix_fmt = output_pix_fmt(av, vj.settings.codec, frame.format.name, bits,
                                vj.settings.pix_fmt)
    sx, sy = chroma_steps(vj.pix_fmt, av)
    fit = (-(-ow // sx) * sx, -(-oh // sy) * sy)
    if fit != (ow, oh):
        log.warning("%s: %s needs sizes in multiples of %dx%d: writing %dx%d, not %dx%d",
                    vj.src, vj.pix_fmt, sx, sy, *fit, ow, oh)
    vj.out_w, vj.out_h = fit
    vj.enc = vj.dec.for_output(av, vj.pix_fmt, vj.out_h)
    if any(c.is_alpha for c in frame.format.components):
        log.warning("%s: the alpha channel of %s is dropped", vj.src, frame.format.name)
    if getattr(frame, "interlaced_frame", False):
        log.warning("%s is interlaced: frames are upscaled as progressive pictures; "
                    "deinterlace it first for a clean result", vj.src)
    vj.describe_in = (f"{w}x{h} {frame.format.name}"
                      f"{f' rotated {rotation}' if rotation else ''}, {len(vj.carried)} stream(s) "
                      f"copied")

    rate = vin.average_rate or vin.guessed_rate or vin.base_rate
    vout = out.add_stream(vj.settings.codec, rate=rate)
    vout.width, vout.height, vout.pix_fmt = vj.out_w, vj.out_h, vj.pix_fmt
    vout.time_base = vout.codec_context.time_base = vin.time_base
    vout.options = vj.settings.options()
    vj.enc.tag(vout)
    sar = vin.codec_context.sample_aspect_ratio
    if sar and not (job.size.width and job.size.height):  # both set: square pixels
        vout.codec_context.sample_aspect_ratio = sar
    if rotation:
        if hasattr(vout, "set_display_rotation"):
            vout.set_display_rotation(rotation)
        else:
            log.warning("%s: this PyAV cannot write rotation metadata (%d degrees); upgrade av",
                        vj.src, rotation)
    vout.metadata.update(clean_tags(dict(vin.metadata)))
    _copy_disposition(vin, vout)

    vj.copies = {}
    for s in vj.carried:
        o = add_copy(out, s)
        o.metadata.update(clean_tags(dict(s.metadata)))
        _copy_disposition(s, o)
        vj.copies[s.index] = o
    for s in vj.attachments:
        if vj.muxer == "matroska" and hasattr(out, "add_attachment"):
            out.add_attachment(s.metadata.get("filename", f"attachment{s.index}"),
                               s.metadata.get("mimetype") or getattr(s, "mimetype", None)
                               or "application/octet-stream", bytes(s.data))
        else:
            log.warning("%s: attachment %s dropped (%s holds none)", vj.src,
                        s.metadata.get("filename", f"#{s.index}"), vj.muxer)

    tags = clean_tags(dict(vj.inp_metadata))
    text = job.text(vj.model, source, (w, h), (vj.out_w, vj.out_h))
    if text:
        tags["comment"] = "; ".join(t for t in (tags.get("comment"), text["Description"]) if t)
    out.metadata.update(tags)
    try:
        out.start_encoding()  # opens the encoder and writes the header
    except Exception as e:  # options the encoder refuses show up here
        v = vj.settings
        raise ValueError(f"{vj.src}: the encoder refused video.codec={v.codec} video.crf={v.crf} "
                         f"video.preset={v.preset} video.pix_fmt={vj.pix_fmt} at {vj.out_w}x"
                         f"{vj.out_h}: {e}") from e
    vj.vout, vj.next_pts = vout, 0
    vj.tick = max(1, round(1 / float(rate * vin.time_base))) if rate and vin.time_base else 1


def _copy_disposition(src, dst) -> None:
    try:
        dst.disposition = src.disposition
    except (AttributeError, TypeError):  # older PyAV
        pass
