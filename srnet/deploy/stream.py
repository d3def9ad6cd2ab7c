"""Large integer images through the banded engine with bounded memory: rows stream.

:func:`srnet.deploy.rgb.upscale_into` takes the LR image as float (12 bytes per RGB pixel) and
its network input (4 more), and the banded engine returns a whole part's phases (16 or more):
about 10 times the uint8 input before the output is written. Here the engine reads its input
rows from the integer image as it needs them (:meth:`DeployedNet.stream_rows`), converting a
band at a time, and every band of phases goes at once through the colour head into the output
array. Besides the input and the output, memory holds a few bands of rows, whatever the image
size. The values are those of ``upscale_into`` in ``banded`` mode (the same operations on the
same rows; ``tests/deploy/test_stream.py``).
"""

from __future__ import annotations

import torch
from torch import Tensor

from srnet.deploy.rgb import HEAD_BYTES, TOPS, alpha_head_for, head_for, write_rows
from srnet.nets.skip import RADIUS
from srnet.ops.color import rgb_to_y

CL = torch.channels_last
WIDE, ROW_PIXELS = 2048, 1 << 15  # wider than WIDE: engine bands of ROW_PIXELS (8 rows at least)


def engine_rows(deployed, w: int) -> int:
    """Engine band rows for width ``w``: the usual 32 up to :data:`WIDE` columns, fewer on wider
    images, where each stage's band of 56 channels is what memory holds besides the arrays
    (measured at 4000 wide: 16 rows add about 100 MB to 8 rows; 8 rows cost a few percent)."""
    rows = deployed.banded.band_rows
    return rows if w <= WIDE else max(8, min(rows, ROW_PIXELS // w))


@torch.no_grad()
def stream_into(deployed, x: Tensor, levels: int, colours: int, out: Tensor) -> Tensor:
    """SR of integer images x (N, H, W, C) on the CPU into ``out`` (N, sH, sW, C) integer.

    Args:
        deployed: a :class:`srnet.deploy.engine.DeployedNet` with its banded engine.
        x: uint8 / int32 images, C = ``colours`` (1 grey, 3 RGB) plus an alpha channel or not.
        levels: 255 or 65535 (x / levels is the picture in [0, 1]).
        out: uint8 (levels 255) or int32 (65535), rounded like ``upscale_into``'s.
    """
    s, (n, h, w, c) = deployed.scale, x.shape
    top = TOPS[out.dtype]
    rows, step = engine_rows(deployed, w), max(8, HEAD_BYTES // (w * 12 * s * s))

    def floats(i: int, a: int, b: int) -> Tensor:  # rows [a, b) of image i: (1, C, rows, W)
        return x[i:i + 1, a:b].permute(0, 3, 1, 2).float().div_(levels)

    def net_rows(i: int, a: int, b: int) -> Tensor:
        rgb = floats(i, a, b)[:, :colours]
        rgb = rgb.expand(-1, 3, -1, -1) if colours == 1 else rgb  # grey: R = G = B
        return (rgb_to_y(rgb) if deployed.channels == 1 else rgb).contiguous(memory_format=CL)

    def part(i: int, r0: int, r1: int) -> None:
        def sink(phases: Tensor, p0: int, p1: int) -> None:
            a, b = max(p0 - RADIUS - 2, 0), min(p1 + RADIUS + 2, h)  # skip and bicubic context
            lr = floats(i, a, b)
            if deployed.net.skip is not None:
                k0, k1 = max(p0 - RADIUS, 0), min(p1 + RADIUS, h)
                net_in = net_rows(i, k0, k1)
                phases = deployed.add_skip(phases, net_in, (RADIUS - (p0 - k0),
                                                            RADIUS - (k1 - p1)))
            head = head_for(deployed, colours, phases.shape[1], top)
            for q0 in range(p0, p1, step):
                q1 = min(q0 + step, p1)
                vals = head(phases[:, :, q0 - p0:q1 - p0], lr[:, :colours], q0, q1, a, h)
                write_rows(out[i], vals, q0, q1)
                if c > colours:
                    vals = alpha_head_for(deployed, top)(lr[:, colours:], q0, q1, a, h)
                    write_rows(out[i], vals, q0, q1, colours)

        deployed.stream_rows(lambda a, b: net_rows(i, a, b), h, w, r0, r1, sink, rows)

    deployed.map_parts(n, h, part)
    return out
