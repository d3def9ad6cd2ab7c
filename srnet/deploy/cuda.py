"""CUDA graphs for the deployed network: one capture per input shape, then replays.

At 1920x1080 -> x2 in fp16 the network is a few dozen kernel launches per frame; replaying them
as a captured graph removes the launch overhead (and the Python around it). Used by
``scripts/benchmark.py part=infer device=cuda`` (the ``fp16 CUDA graph`` row). Not yet run on a
GPU in this project (docs/speed.md says so); on a machine without CUDA it is never called.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor


def graphed_phases(deployed, warmup: int = 3) -> Callable[[Tensor], Tensor]:
    """A function like ``deployed`` (network space (N, C, H, W) -> (N, C, sH, sW)) that captures
    a CUDA graph of the plain network for each new input shape and replays it.

    The returned tensor is the graph's static output: it is overwritten by the next call of the
    same shape (copy it to keep it).
    """
    graphs: dict[tuple, tuple[torch.cuda.CUDAGraph, Tensor, Tensor]] = {}
    k = deployed.scale * deployed.scale * deployed.channels

    def forward(x: Tensor) -> Tensor:
        return F.pixel_shuffle(deployed.forward_phases(x, "plain")[:, :k], deployed.scale)

    @torch.inference_mode()
    def run(x: Tensor) -> Tensor:
        key = (tuple(x.shape), x.dtype)
        if key not in graphs:
            static_in = x.to(deployed.device).clone()
            stream = torch.cuda.Stream(deployed.device)
            stream.wait_stream(torch.cuda.current_stream(deployed.device))
            with torch.cuda.stream(stream):  # warm-up outside the capture (cuDNN autotuning)
                for _ in range(warmup):
                    forward(static_in)
            torch.cuda.current_stream(deployed.device).wait_stream(stream)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                static_out = forward(static_in)
            graphs[key] = (graph, static_in, static_out)
        graph, static_in, static_out = graphs[key]
        static_in.copy_(x)
        graph.replay()
        return static_out

    return run
