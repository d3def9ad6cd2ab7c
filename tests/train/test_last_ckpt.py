"""last.ckpt holds the final training state, even when the last validation was no new best and
max_steps ends inside an epoch."""

import torch
from helpers import compose_train, make_data, tiny_overrides

from srnet.train.run import train


def test_last_ckpt_is_the_final_step(tmp_path) -> None:
    data = make_data(tmp_path / "data")
    cfg = compose_train([*tiny_overrides(data, epochs=3), "trainer.max_steps=10",
                         "model.optimizer.lr=0"], tmp_path / "run")  # lr 0: no new best
    train(cfg)
    blob = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    assert blob["global_step"] == 10  # 4 steps per epoch: ends inside the third epoch
