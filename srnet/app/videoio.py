"""Video containers, streams and colour for ``infer.py`` (PyAV, the optional ``video`` extra).

* :func:`plan_container`: the output keeps the input's container when it can hold the new video
  codec and every carried stream, else MKV (said in the log); ``video.container`` forces one.
  Whether a container holds a set of streams is tried for real: a header written to memory.
* :class:`Colour`: frames are turned into RGB with the input's matrix and range (BT.601 /
  BT.709 / BT.2020, limited / full; untagged input: BT.709 from 720 lines up, else BT.601, as
  players assume) and back with the same, and the output is tagged with them explicitly, so an
  SD input made HD keeps its colours. Chroma is resampled bicubically with accurate rounding.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MUXERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm",
          ".avi": "avi", ".ts": "mpegts", ".m2ts": "mpegts", ".mts": "mpegts", ".mpg": "mpeg",
          ".mpeg": "mpeg", ".wmv": "asf", ".flv": "flv", ".3gp": "3gp", ".ogv": "ogg"}
_SWS_BICUBIC, _FULL_CHR_H_INT, _FULL_CHR_H_INP, _ACCURATE_RND = 4, 0x2000, 0x4000, 0x40000
DECODE_FLAGS = _SWS_BICUBIC | _ACCURATE_RND | _FULL_CHR_H_INT  # YUV -> RGB
ENCODE_FLAGS = _SWS_BICUBIC | _ACCURATE_RND | _FULL_CHR_H_INP  # RGB -> YUV
MATRICES = {1: "ITU709", 4: "FCC", 5: "ITU601", 6: "ITU601", 7: "SMPTE240M", 9: "BT2020",
            10: "BT2020"}  # AVColorSpace -> swscale name
TAGS = {"ITU709": 1, "ITU601": 6, "FCC": 4, "SMPTE240M": 7, "BT2020": 9}  # -> AVColorSpace
UNSPECIFIED = 2  # AVCOL_SPC / AVCOL_PRI / AVCOL_TRC_UNSPECIFIED
STALE_TAGS = ("major_brand", "minor_version", "compatible_brands", "encoder", "duration",
              "number_of_frames", "number_of_bytes", "bps", "_statistics")  # rewritten by muxers


def clean_tags(tags: dict) -> dict:
    """Metadata without the tags a muxer writes itself (or that re-encoding makes wrong)."""
    return {k: v for k, v in tags.items() if not k.lower().split("-")[0].startswith(STALE_TAGS)}


def import_av(path: Path | str = "video"):
    """``import av``, or an ``ImportError`` of one line naming the extra."""
    try:
        import av
    except ImportError as e:
        raise ImportError(f'{path}: video needs PyAV, the optional "video" extra: pip install '
                          f'"srnet[video]" (or pip install "av>=18")') from e
    return av


def open_input(av, path: Path):
    """Open a video file; ``OSError`` naming it when FFmpeg cannot."""
    try:
        return av.open(str(path))
    except Exception as e:  # av.error.InvalidDataError, FileNotFoundError, ...
        raise OSError(f"cannot read video {path}: {e}") from e


def flagged(stream, name: str) -> bool:
    """Whether ``stream`` has disposition ``name`` (``attached_pic``, ``default``, ...)."""
    d = getattr(stream, "disposition", None)  # PyAV < 13 has none
    return bool(d is not None and d & getattr(type(d), name, 0))


def video_stream(container, path: Path):
    """The video stream to upscale: the first that is not cover art (default ones first)."""
    cands = [s for s in container.streams.video if not flagged(s, "attached_pic")]
    if not cands:
        kinds = ", ".join(sorted({s.type for s in container.streams})) or "no streams at all"
        raise ValueError(f"{path} has no video stream to upscale ({kinds})")
    return sorted(cands, key=lambda s: not flagged(s, "default"))[0]


def add_copy(out, template):
    """An output stream that copies ``template``'s packets (PyAV >= 13 and older)."""
    if hasattr(out, "add_stream_from_template"):
        return out.add_stream_from_template(template)
    return out.add_stream(template=template)


def describe_stream(s) -> str:
    name = s.codec_context.name if s.codec_context is not None else s.type
    lang = s.metadata.get("language")
    return f"#{s.index} {s.type} ({name}{', ' + lang if lang else ''})"


def holds(av, muxer: str, codec: str, streams: list) -> str | None:
    """None when ``muxer`` can hold a ``codec`` video plus copies of ``streams``, else why not."""
    try:
        out = av.open(io.BytesIO(), "w", format=muxer)
        try:
            v = out.add_stream(codec, rate=25)
            v.width = v.height = 64
            v.pix_fmt = (av.codec.Codec(codec, "w").video_formats or [None])[0].name
            for s in streams:
                add_copy(out, s)
            out.start_encoding()
        finally:
            out.close()
    except Exception as e:  # ValueError (not supported), av.error.*
        return str(e) or type(e).__name__
    return None


def plan_container(av, src: Path, requested: str | None, codec: str, carried: list,
                   setting: str = "video.container") -> tuple[str, str, list, list[str]]:
    """-> (muxer, output suffix, streams to carry, notes for the log).

    Raises ``ValueError`` naming the setting when ``requested`` (``video.container``, or the
    suffix of ``output=`` given as a file: ``setting``) or ``codec`` cannot work.
    """
    if requested:
        suffix = requested.lower() if requested.startswith(".") else f".{requested.lower()}"
        muxer = MUXERS.get(suffix)
        if muxer is None:
            raise ValueError(f"{setting}={requested}: not a video container srnet writes; use "
                             f"{', '.join(s[1:] for s in MUXERS)}")
        bad = [s for s in carried if holds(av, muxer, codec, [s])]
        why = holds(av, muxer, codec, [] if bad else carried)
        if bad or why:
            what = ", ".join(map(describe_stream, bad)) or f"video.codec={codec} ({why})"
            raise ValueError(f"{src}: {setting}={requested} cannot hold {what}; "
                             f"use video.container=mkv")
        return muxer, suffix, carried, []
    suffix = src.suffix.lower()
    muxer = MUXERS.get(suffix)
    if muxer is not None and holds(av, muxer, codec, carried) is None:
        return muxer, suffix, carried, []
    why = holds(av, "matroska", codec, [])
    if why:
        raise ValueError(f"video.codec={codec} cannot be written: {why}")
    if muxer is None:
        reason = f"{suffix or 'no suffix'} is not a container srnet writes"
    elif holds(av, muxer, codec, []):
        reason = f"{muxer} cannot hold video.codec={codec}"
    else:
        reason = f"{muxer} cannot hold " + ", ".join(
            describe_stream(s) for s in carried if holds(av, muxer, codec, [s]))
    notes = [f"{src}: {reason}; writing MKV"]
    keep = [s for s in carried if holds(av, "matroska", codec, [s]) is None]
    notes += [f"{src}: stream {describe_stream(s)} dropped: MKV cannot hold it"
              for s in carried if s not in keep]
    return "matroska", ".mkv", keep, notes


def chroma_steps(pix_fmt: str, av) -> tuple[int, int]:
    """(horizontal, vertical) multiple that frame sizes need in ``pix_fmt`` (2, 2 for 4:2:0)."""
    f = av.VideoFormat(pix_fmt)
    return max(1, 4 // max(1, f.chroma_width(4))), max(1, 4 // max(1, f.chroma_height(4)))


def output_pix_fmt(av, codec: str, in_fmt: str, bits: int, requested: str | None) -> str:
    """``video.pix_fmt``, or the input's when the encoder takes it, else 4:2:0 of its depth."""
    formats = [f.name for f in (av.codec.Codec(codec, "w").video_formats or [])]
    if requested:
        if formats and requested not in formats:
            raise ValueError(f"video.pix_fmt={requested}: {codec} takes {', '.join(formats)}")
        return requested
    if in_fmt in formats or not formats:
        return in_fmt
    for cand in (["yuv420p10le"] if bits > 8 else []) + ["yuv420p"]:
        if cand in formats:
            return cand
    return formats[0]


@dataclass
class Colour:
    """How frames go to RGB and back: swscale matrix and range names, and the output's tags."""

    matrix: str | None
    range: str | None
    rgb: str = "rgb24"  # rgb48le above 8 bits
    tags: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, frame) -> Colour:
        """From the first decoded frame (its format, tags and size)."""
        fmt = frame.format
        bits = max(c.bits for c in fmt.components)
        rgb = "rgb48le" if bits > 8 else "rgb24"
        if fmt.is_rgb:
            return cls(None, None, rgb)
        matrix = MATRICES.get(int(frame.colorspace))
        if matrix is None:  # untagged: what players assume
            matrix = "ITU709" if frame.height >= 720 else "ITU601"
        full = int(frame.color_range) == 2 or (int(frame.color_range) == 0
                                               and fmt.name.startswith("yuvj"))
        tags = {"colorspace": TAGS[matrix] if int(frame.colorspace) not in MATRICES
                else int(frame.colorspace), "color_range": 2 if full else 1}
        for key in ("color_primaries", "color_trc"):
            if int(getattr(frame, key, UNSPECIFIED)) not in (0, UNSPECIFIED):
                tags[key] = int(getattr(frame, key))
        return cls(matrix, "JPEG" if full else "MPEG", rgb, tags)

    def for_output(self, av, pix_fmt: str, height: int) -> Colour:
        """The colour of the output: this one, or for RGB input going to YUV, the matrix
        players assume for ``height`` (tagged)."""
        if self.matrix is not None or av.VideoFormat(pix_fmt).is_rgb:
            return self
        matrix = "ITU709" if height >= 720 else "ITU601"
        return Colour(matrix, "MPEG", self.rgb, {"colorspace": TAGS[matrix], "color_range": 1})

    def to_rgb(self, frame) -> np.ndarray:
        """A decoded frame -> (H, W, 3) uint8 or uint16 RGB."""
        return frame.to_ndarray(format=self.rgb, src_colorspace=self.matrix,
                                src_color_range=self.range, interpolation=DECODE_FLAGS)

    def from_rgb(self, av, rgb: np.ndarray, pix_fmt: str):
        """(H, W, 3) RGB -> a frame in ``pix_fmt`` with this matrix and range."""
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format=self.rgb)
        if av.VideoFormat(pix_fmt).is_rgb or self.matrix is None:
            return frame.reformat(format=pix_fmt)
        return frame.reformat(format=pix_fmt, dst_colorspace=self.matrix,
                              dst_color_range=self.range, interpolation=ENCODE_FLAGS)

    def tag(self, stream) -> None:
        """Write the colour tags into the encoder (so the bitstream / container carries them)."""
        for key, value in self.tags.items():
            try:
                setattr(stream.codec_context, key, value)
            except (AttributeError, TypeError, ValueError):  # older PyAV: not settable
                pass
