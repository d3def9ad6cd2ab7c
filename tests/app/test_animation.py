"""GIF, APNG and animated WebP through ``infer.py`` (issue 14): listed in folders, every frame
upscaled, durations and loop count kept, transparency kept; folders mixing images, GIFs and
videos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import compose_infer, make_video, smooth_image, tiny_weights
from PIL import Image

from srnet.app.app import infer
from srnet.app.inputs import list_inputs
from srnet.infer.models import load_model
from srnet.io.animation import read_animation

DURATIONS = [50, 120, 200]


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    return tiny_weights(tmp_path_factory.mktemp("w") / "w.pt")


def run(tmp_path: Path, weights: Path, *overrides: str) -> int:
    return infer(compose_infer(tmp_path, f"ckpt_path={weights}", "progress=false", *overrides))


def make_gif(path: Path, n: int = 3, h: int = 24, w: int = 32, **kwargs) -> list[np.ndarray]:
    frames = [smooth_image(h, w, seed=i) for i in range(n)]
    ims = [Image.fromarray(f).quantize(64) for f in frames]
    ims[0].save(path, save_all=True, append_images=ims[1:], duration=DURATIONS[:n], **kwargs)
    return [np.array(im.convert("RGB")) for im in ims]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255**2 / np.mean((a.astype(float) - b.astype(float)) ** 2)))


def test_gif_is_listed_and_keeps_frames_durations_and_loop(tmp_path, weights):
    src = tmp_path / "in"
    src.mkdir()
    frames = make_gif(src / "anim.gif", loop=0)
    assert list_inputs(str(src)) == [src / "anim.gif"]
    assert run(tmp_path, weights, f"input={src}", f"output={tmp_path / 'o'}") == 0
    out = read_animation(tmp_path / "o" / "anim.gif")
    assert len(out.frames) == 3 and out.durations == DURATIONS and out.loop == 0
    model = load_model(str(weights), "cpu")
    for got, frame in zip(out.frames, frames, strict=True):
        assert got.pixels.shape == (48, 64, 3)
        assert psnr(got.pixels, model.upscale(frame)) > 30  # within GIF's 256-colour palette


def test_gif_that_plays_once_and_transparency(tmp_path, weights):
    rgba = np.dstack([smooth_image(24, 32), np.full((24, 32), 255, np.uint8)])
    rgba[:, :10, 3] = 0  # the left strip is transparent
    ims = [Image.fromarray(rgba), Image.fromarray(np.roll(rgba, 4, axis=1))]
    ims[0].save(tmp_path / "t.gif", save_all=True, append_images=ims[1:], duration=[100, 80],
                disposal=2)
    assert run(tmp_path, weights, f"input={tmp_path / 't.gif'}", f"output={tmp_path / 'o'}") == 0
    out = read_animation(tmp_path / "o" / "t.gif")
    assert out.loop is None and out.durations == [100, 80]
    clear = out.frames[0].alpha == 0
    assert clear[:, :18].mean() > 0.95 and not clear[:, 24:].any()  # 10 px -> 20 px, soft edge


def test_single_frame_gif_and_ext(tmp_path, weights):
    make_gif(tmp_path / "still.gif", n=1)
    assert run(tmp_path, weights, f"input={tmp_path / 'still.gif'}", f"output={tmp_path / 'o'}",
               "outscale=1.5") == 0
    out = read_animation(tmp_path / "o" / "still.gif")
    assert len(out.frames) == 1 and out.frames[0].pixels.shape == (36, 48, 3)
    assert run(tmp_path, weights, f"input={tmp_path / 'still.gif'}", f"output={tmp_path / 'p'}",
               "ext=.webp") == 0
    assert Image.open(tmp_path / "p" / "still.webp").size == (64, 48)


@pytest.mark.parametrize("suffix", [".png", ".webp"])
def test_apng_and_animated_webp(tmp_path, weights, suffix):
    ims = [Image.fromarray(smooth_image(20, 30, seed=i)) for i in range(3)]
    ims[0].save(tmp_path / f"a{suffix}", save_all=True, append_images=ims[1:],
                duration=DURATIONS, loop=2, **({"lossless": True} if suffix == ".webp" else {}))
    assert run(tmp_path, weights, f"input={tmp_path / f'a{suffix}'}",
               f"output={tmp_path / 'o'}") == 0
    out = read_animation(tmp_path / "o" / f"a{suffix}")
    assert len(out.frames) == 3 and out.durations == DURATIONS and out.loop == 2
    assert out.frames[0].pixels.shape == (40, 60, 3)


def test_a_folder_mixing_images_gifs_and_videos(tmp_path, weights, capsys):
    pytest.importorskip("av")
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(smooth_image(20, 30)).save(src / "photo.png")
    make_gif(src / "anim.gif")
    make_video(src / "clip.mkv", subtitles=False)
    (src / "notes.txt").write_text("not listed")
    assert run(tmp_path, weights, f"input={src}", f"output={tmp_path / 'o'}") == 0
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["anim.gif", "clip.mkv",
                                                                  "photo.png"]
    assert "summary: 3 of 3 file(s) done" in capsys.readouterr().out
