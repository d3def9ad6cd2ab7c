"""Pure ``nn.Module`` networks (no Lightning): FSRCNN and its re-shaped family
(:mod:`~srnet.nets.fsrcnn`), the upsampling tails, the skip, the deploy rewrite, the
over-parameterised training branches, the closed-form tail fit."""
