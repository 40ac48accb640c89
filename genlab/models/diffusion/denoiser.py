"""The network of genlab's diffusion and flow models: a small U-Net that looks at a noisy image x_t, the time t
and (optionally) a class label, and returns a tensor of the image's shape (a velocity, or the added noise).

Ronneberger et al., "U-Net", MICCAI 2015; the time-conditioned U-Net of Ho et al., "Denoising Diffusion
Probabilistic Models", NeurIPS 2020. https://arxiv.org/abs/2006.11239

The network is diffusers' `UNet2DModel` (a well-kept implementation of exactly that architecture: residual blocks
with the time embedding added inside, self-attention at the coarsest level, skip connections across). genlab only
sizes it for 28x28 images and a CPU: three levels, 28x28 -> 14x14 -> 7x7, with `width`, 2 `width` and 2 `width`
channels. What a course teaches, the loss and the sampling loop, stays in genlab's own model files.

diffusers is imported when a network is built, not when genlab starts: it takes a few seconds to import.

A model also keeps an exponential moving average (EMA) of its weights, the copy it samples from: diffusion
models sample much better from averaged weights than from the last step's (Ho et al. 2020 use it too). Its
weights are buffers, not parameters: saved in the checkpoint, never trained, not counted as the model's size.
"""
from __future__ import annotations

import torch
from torch import nn

TIME_SCALE = 1000.0  # t in [0, 1] is embedded as t * 1000: the sinusoidal embedding was made for step numbers


class Denoiser(nn.Module):
    def __init__(self, image_channels: int, image_size: int, width: int, num_classes: int):
        super().__init__()
        from diffusers.models.unets.unet_2d import UNet2DModel  # slow to import: only when a model is built

        self.num_classes = num_classes
        self.unet = UNet2DModel(
            sample_size=image_size, in_channels=image_channels, out_channels=image_channels,
            block_out_channels=(width, 2 * width, 2 * width),  # 28x28 -> 14x14 -> 7x7 (the last level keeps 7x7)
            layers_per_block=1,
            down_block_types=("DownBlock2D", "DownBlock2D", "AttnDownBlock2D"),  # attention only at 7x7: cheap
            up_block_types=("AttnUpBlock2D", "UpBlock2D", "UpBlock2D"),
            norm_num_groups=min(8, width), attention_head_dim=8,
            num_class_embeds=num_classes + 1 if num_classes else None,  # the last class is "no label"
        )

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        """x_t (N, C, H, W), t (N,) in [0, 1], label (N,) class indices (num_classes: no label) or None
        -> (N, C, H, W)."""
        return self.unet(x_t, t * TIME_SCALE, class_labels=label).sample


def frozen_copy(module: nn.Module) -> nn.Module:
    """A copy of `module` whose weights are buffers: saved and loaded with the model, never trained or counted."""
    import copy

    twin = copy.deepcopy(module)
    for part in twin.modules():
        for name, weight in list(part.named_parameters(recurse=False)):
            delattr(part, name)
            part.register_buffer(name, weight.detach().clone())
    return twin


@torch.no_grad()
def update_average(average: nn.Module, live: nn.Module, decay: float) -> None:
    """average <- decay * average + (1 - decay) * live, weight by weight (the EMA's update after each step)."""
    live_weights = {**dict(live.named_parameters()), **dict(live.named_buffers())}
    for name, kept in average.named_buffers():  # the same names: frozen_copy turned parameters into buffers
        if kept.is_floating_point():
            kept.lerp_(live_weights[name].detach(), 1.0 - decay)
