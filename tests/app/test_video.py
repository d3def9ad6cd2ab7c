"""Video in, video out (issue 14): streams copied packet for packet, timing kept exactly, each
frame the Upscaler's output for the input frame, containers, rotation, named errors, Ctrl-C.

Every video is made here with PyAV (helpers.make_video): a few 64x48 frames, an AAC audio
stream of whole codec frames and an SRT subtitle stream (MKV).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import ROOT, compose_infer, make_video, tiny_weights, video_facts

from srnet.app.app import infer
from srnet.infer.models import load_model

av = pytest.importorskip("av")
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    return tiny_weights(tmp_path_factory.mktemp("w") / "w.pt")


@pytest.fixture(scope="module")
def model(weights):
    return load_model(str(weights), "cpu")


def run(tmp_path: Path, weights: Path, *overrides: str) -> int:
    return infer(compose_infer(tmp_path, f"ckpt_path={weights}", "progress=false", *overrides))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255**2 / max(mse, 1e-12)))


def expected(model, frames: list[np.ndarray]) -> list[np.ndarray]:
    return [model.upscale(f) for f in frames]


def test_streams_timing_and_frames_are_kept(tmp_path, weights, model):
    """Lossless output (FFV1, RGB): every frame is the Upscaler's output for the input frame."""
    src = make_video(tmp_path / "clip.mkv")
    assert run(tmp_path, weights, f"input={src}", f"output={tmp_path / 'out'}",
               "video.codec=ffv1", "video.pix_fmt=bgr0") == 0
    a, b = video_facts(src), video_facts(tmp_path / "out" / "clip.mkv")
    assert b["streams"] == [("video", "ffv1"), ("audio", "aac"), ("subtitle", "srt")]
    assert b["size"] == (128, 96) and len(b["frames"]) == len(a["frames"]) == 6
    assert b["rate"] == a["rate"] and b["times"] == a["times"] and b["duration"] == a["duration"]
    # audio: same bytes, times and durations; the one exception is the AAC priming packet before
    # 0 s (all of it discarded on playback), whose duration FFmpeg's MKV muxer stores as 0 when
    # no video timestamp is earlier (it is 21 ms again with H.264 below)
    assert [p[::2] for p in b["packets"][1]] == [p[::2] for p in a["packets"][1]]
    assert [p for p in b["packets"][1] if p[0] >= 0] == [p for p in a["packets"][1] if p[0] >= 0]
    assert b["packets"][2] == a["packets"][2]  # subtitles: bytes, times, durations
    assert [p[2] for p in b["packets"][2]] == [b"hello", b"world"]
    for got, want in zip(b["frames"], expected(model, a["frames"]), strict=True):
        assert np.abs(got.astype(int) - want).max() <= 1  # batch vs single frame: float rounding
        assert np.mean(got == want) > 0.99


@pytest.mark.parametrize("settings,min_psnr,max_err", [((), 38, 255),
                                                       (("video.crf=0", "video.pix_fmt=yuv444p"),
                                                        50, 3)])
def test_h264_mp4_keeps_rotation_audio_and_is_close(tmp_path, weights, model, settings, min_psnr,
                                                    max_err):
    """Default H.264 (CRF 18, 4:2:0): close to the Upscaler's frames; CRF 0 4:4:4: YUV rounding."""
    src = make_video(tmp_path / "phone.mp4", subtitles=False, rotation=90)
    assert run(tmp_path, weights, f"input={src}", f"output={tmp_path / 'out'}", *settings) == 0
    a, b = video_facts(src), video_facts(tmp_path / "out" / "phone.mp4")
    assert b["format"].startswith("mov,mp4") and b["streams"] == [("video", "h264"), ("audio", "aac")]
    assert b["rotation"] == a["rotation"] == 90 and b["size"] == (128, 96)
    assert b["times"] == a["times"] and b["rate"] == a["rate"]
    # MP4 durations are kept to the movie time scale (ms): the input's muxer rounded 200.2 ms
    assert abs(b["duration"] - a["duration"]) <= 1000
    assert b["packets"][1] == a["packets"][1]  # audio: bytes, times, durations
    assert sorted(p[:2] for p in b["packets"][0]) == sorted(p[:2] for p in a["packets"][0])
    for got, want in zip(b["frames"], expected(model, a["frames"]), strict=True):
        assert psnr(got, want) > min_psnr and np.abs(got.astype(int) - want).max() <= max_err
    with av.open(str(tmp_path / "out" / "phone.mp4")) as c:
        first = next(c.decode(video=0))
        assert (int(first.colorspace), int(first.color_range)) == (6, 1)  # BT.601 tagged, limited


def test_ten_bit_stays_ten_bit(tmp_path, weights):
    src = make_video(tmp_path / "deep.mkv", pix_fmt="yuv420p10le", subtitles=False)
    assert run(tmp_path, weights, f"input={src}", f"output={tmp_path / 'out'}") == 0
    b = video_facts(tmp_path / "out" / "deep.mkv")
    assert b["pix_fmt"] == "yuv420p10le" and b["frames"][0].dtype == np.uint16


def test_container_falls_back_to_mkv_and_keeps_webm_when_it_can(tmp_path, weights, caplog):
    src = make_video(tmp_path / "web.webm", codec="libvpx-vp9", audio="libopus", subtitles=False)
    assert run(tmp_path, weights, f"input={src}", f"output={tmp_path / 'out'}") == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["web.mkv"]
    assert "webm cannot hold video.codec=libx264" in caplog.text and "writing MKV" in caplog.text
    a, b = video_facts(src), video_facts(tmp_path / "out" / "web.mkv")
    assert b["streams"] == [("video", "h264"), ("audio", "opus")]
    assert b["packets"][1] == a["packets"][1] and b["times"] == a["times"]
    assert run(tmp_path, weights, f"input={src}", f"output={tmp_path / 'vp9'}",
               "video.codec=libvpx-vp9", "video.crf=30") == 0
    assert video_facts(tmp_path / "vp9" / "web.webm")["streams"] == [("video", "vp9"),
                                                                     ("audio", "opus")]


def test_container_that_cannot_hold_a_stream_is_a_named_error(tmp_path, weights, capsys):
    src = make_video(tmp_path / "subs.mkv")
    assert run(tmp_path, weights, f"input={src}", f"output={tmp_path / 'out'}",
               "video.container=mp4") == 1
    out = capsys.readouterr().out
    assert f"FAILED {src}" in out and "video.container=mp4 cannot hold #2 subtitle" in out
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_bad_videos_are_named_and_the_rest_is_done(tmp_path, weights, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    make_video(folder / "good.mkv", subtitles=False)
    (folder / "garbage.mp4").write_text("not a video")
    with av.open(str(folder / "sound.mkv"), "w") as c:  # audio only
        a = c.add_stream("aac", rate=48000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), "fltp", "mono")
        frame.sample_rate, frame.pts = 48000, 0
        c.mux(a.encode(frame))
        c.mux(a.encode(None))
    assert run(tmp_path, weights, f"input={folder}", f"output={tmp_path / 'out'}") == 1
    out = capsys.readouterr().out
    assert f"cannot read video {folder / 'garbage.mp4'}" in out
    assert f"{folder / 'sound.mkv'} has no video stream to upscale (audio)" in out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good.mkv"]


def test_without_pyav_a_video_is_a_one_line_usage_error(tmp_path, weights, capsys, monkeypatch):
    src = make_video(tmp_path / "clip.mkv", subtitles=False)
    monkeypatch.setitem(sys.modules, "av", None)  # import av raises ImportError
    assert run(tmp_path, weights, f"input={src}", f"output={tmp_path / 'out'}") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and 'pip install "srnet[video]"' in err and str(src) in err


def test_progress_bar_counts_frames(tmp_path, weights, monkeypatch):
    import srnet.app.video as video

    seen: list[dict] = []

    class Bar:
        def __init__(self, **kwargs) -> None:
            seen.append({**kwargs, "n": 0})

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            pass

        def update(self, n: int) -> None:
            seen[-1]["n"] += n

    monkeypatch.setattr(video, "tqdm", Bar)
    src = make_video(tmp_path / "clip.mp4", frames=9, subtitles=False)
    assert run(tmp_path, weights, f"input={src}", f"output={tmp_path / 'out'}",
               "video.batch=4") == 0
    assert seen[0]["unit"] == "frame" and seen[0]["total"] == 9 and seen[0]["n"] == 9


def test_outscale_and_width_of_a_rotated_video(tmp_path, weights, caplog):
    src = make_video(tmp_path / "phone.mp4", subtitles=False, rotation=90)  # shown as 48x64
    assert run(tmp_path, weights, f"input={src}", f"output={tmp_path / 'a'}", "outscale=1.5") == 0
    assert video_facts(tmp_path / "a" / "phone.mp4")["size"] == (96, 72)
    assert run(tmp_path, weights, f"input={src}", f"output={tmp_path / 'b'}", "width=100") == 0
    b = video_facts(tmp_path / "b" / "phone.mp4")  # shown 100 wide: stored 133 (-> 134) x 100
    assert b["size"] == (134, 100) and b["rotation"] == 90
    assert "writing 134x100, not 133x100" in caplog.text


def test_interrupt_leaves_nothing_under_the_output_name(tmp_path, weights, monkeypatch, capsys):
    """Ctrl-C in the middle of a video (the second batch): exit 130, no file, no temporary."""
    import srnet.app.video as video

    calls = []

    def interrupted(*args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args)

    real = video.upscale_frames
    monkeypatch.setattr(video, "upscale_frames", interrupted)
    src = make_video(tmp_path / "clip.mkv", frames=12, subtitles=False)
    (tmp_path / "out").mkdir()
    assert run(tmp_path, weights, f"input={src}", f"output={tmp_path / 'out'}",
               "video.batch=2") == 130
    assert list((tmp_path / "out").iterdir()) == [] and len(calls) == 2
    assert f"interrupted: {src} was not written" in capsys.readouterr().err


def _ctrl_c_as_at_a_terminal() -> None:
    """SIGINT as a terminal delivers it. A test run started in the background (``cmd &`` from a
    script) hands its children SIGINT ignored, and Python keeps an inherited "ignore" (as
    ``nohup ... &`` users want), so the child would not see the Ctrl-C this test sends."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
@pytest.mark.parametrize("frames", [150, 600])
def test_ctrl_c_of_the_command_leaves_nothing(tmp_path, weights, frames):
    """A real SIGINT to ``python infer.py`` while it encodes (a longer clip too, so that a loaded
    machine cannot finish the video between the first output file and the signal)."""
    src = make_video(tmp_path / "long.mkv", frames=frames, w=320, h=240, subtitles=False)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, str(ROOT / "infer.py"), f"input={src}",
                             f"output={out}", f"ckpt_path={weights}", "video.batch=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                            cwd=tmp_path, preexec_fn=_ctrl_c_as_at_a_terminal)
    deadline = time.monotonic() + 300
    while not (out.is_dir() and any(out.iterdir())) and time.monotonic() < deadline:
        time.sleep(0.02)  # the temporary file appears when encoding starts
    time.sleep(0.3)
    if proc.poll() is not None and frames == 150:
        pytest.skip("the short clip was done before the signal; the 600-frame case covers it")
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, stdout + stderr
    assert "interrupted" in stderr and list(out.iterdir()) == []
    assert src.stat().st_size > 0


def test_dispositions_languages_and_attachments_are_kept(tmp_path, weights):
    """A forced French subtitle track and a font attachment (what ASS subtitles carry) survive."""
    plain = make_video(tmp_path / "plain.mkv")
    src = tmp_path / "film.mkv"
    with av.open(str(plain)) as i, av.open(str(src), "w") as o:
        streams = {s.index: o.add_stream_from_template(s) for s in i.streams}
        streams[2].disposition = av.stream.Disposition.forced | av.stream.Disposition.default
        streams[2].metadata.update(language="fra", title="French")
        o.add_attachment("font.ttf", "font/ttf", b"FAKEFONT" * 10)
        for pkt in i.demux():
            if pkt.size:
                pkt.stream = streams[pkt.stream.index]
                o.mux(pkt)
    assert run(tmp_path, weights, f"input={src}", f"output={tmp_path / 'out'}") == 0
    with av.open(str(tmp_path / "out" / "film.mkv")) as c:
        sub, att = c.streams.subtitles[0], [s for s in c.streams if s.type == "attachment"][0]
        assert sub.disposition == av.stream.Disposition.forced | av.stream.Disposition.default
        assert sub.metadata["language"] == "fra" and sub.metadata["title"] == "French"
        assert att.metadata["filename"] == "font.ttf" and bytes(att.data) == b"FAKEFONT" * 10


def test_bad_encoder_settings_name_the_setting(tmp_path, weights, capsys):
    src = make_video(tmp_path / "clip.mkv", subtitles=False)
    assert run(tmp_path, weights, f"input={src}", f"output={tmp_path / 'a'}",
               "video.codec=nosuchcodec") == 2
    assert "video.codec=nosuchcodec: FFmpeg has no such encoder" in capsys.readouterr().err
    assert run(tmp_path, weights, f"input={src}", f"output={tmp_path / 'b'}",
               "video.pix_fmt=rgb24") == 1
    assert "video.pix_fmt=rgb24: libx264 takes yuv420p" in capsys.readouterr().out
    assert run(tmp_path, weights, f"input={src}", f"output={tmp_path / 'c'}",
               "video.preset=warp9") == 1
    out = capsys.readouterr().out
    assert f"{src}: the encoder refused video.codec=libx264" in out and "preset=warp9" in out
    assert not any(p.is_file() for d in "abc" for p in (tmp_path / d).glob("*"))
