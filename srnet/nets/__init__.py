"""Pure ``nn.Module`` networks (no Lightning): FSRCNN and its upsampling tails."""

from srnet.nets.fsrcnn import FSRCNN, SCALES, FSRCNNConfig, build_net
from srnet.nets.tails import CheckerboardError, DeconvTail, deconv_padding, default_kernel

__all__ = ["FSRCNN", "FSRCNNConfig", "SCALES", "build_net", "CheckerboardError", "DeconvTail",
           "deconv_padding", "default_kernel"]
