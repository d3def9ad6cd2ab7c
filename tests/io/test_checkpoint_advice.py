"""A file that is not an srnet checkpoint (issue 14): the error names the file and what it holds,
and never passes on PyTorch's advice to retry with ``weights_only=False``."""

from __future__ import annotations

import pytest
import torch
from helpers import compose_infer, smooth_image
from PIL import Image

from srnet.app.app import infer
from srnet.io.checkpoints import CheckpointError, load_net


def test_pickled_module_is_refused_without_torchs_advice(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"model": torch.nn.Linear(2, 2)}, path)  # a whole pickled module, not weights
    with pytest.raises(CheckpointError) as err:
        load_net(path)
    msg = str(err.value)
    assert str(path) in msg and "pickled Python objects (torch.nn.modules.linear.Linear)" in msg
    assert "srnet never loads" in msg and "cannot be read" in msg
    for advice in ("weights_only", "trust", "safe_globals", "\x1b["):
        assert advice not in msg


def test_through_infer_one_line_without_the_advice(tmp_path, capsys):
    torch.save(torch.nn.Linear(2, 2), tmp_path / "net.ckpt")
    Image.fromarray(smooth_image(8, 8)).save(tmp_path / "a.png")
    assert infer(compose_infer(tmp_path, f"input={tmp_path / 'a.png'}", f"output={tmp_path / 'o'}",
                               f"ckpt_path={tmp_path / 'net.ckpt'}")) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "weights_only" not in err and "net.ckpt" in err


@pytest.mark.parametrize("content", [b"not a checkpoint", b"\x80\x02K\x01.", b"PK\x03\x04junk"])
def test_junk_files_say_what_failed_not_how_to_load_them_unsafely(tmp_path, content):
    path = tmp_path / "junk.ckpt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="cannot be read as a PyTorch checkpoint") as err:
        load_net(path)
    assert "weights_only" not in str(err.value) and "trust" not in str(err.value)
