"""Flow matching: learn a velocity field that carries pure noise to images along straight lines.

Lipman et al., "Flow Matching for Generative Modeling", ICLR 2023. https://arxiv.org/abs/2210.02747
Liu et al., "Flow Straight and Fast: Learning to Generate and Transfer Data with Rectified Flow", ICLR 2023.
Ho & Salimans, "Classifier-Free Diffusion Guidance", 2022. https://arxiv.org/abs/2207.12598

The idea. Blend an image x (scaled to [-1, 1]) with Gaussian noise e along a straight line in time t:

    x_t = (1 - t) x + t e,      t = 0: the image,  t = 1: pure noise          (the forward process)

Along that line the image moves with the constant velocity dx_t/dt = e - x. A network v(x_t, t) only sees x_t,
not which x and e made it, so it is trained to predict the velocity on average, by regression:

    L = E_{x, e, t} || v(x_t, t) - (e - x) ||^2                                (the flow-matching loss)

Its minimiser is the average velocity of all lines through x_t, and moving every point with it carries the
noise distribution at t = 1 exactly to the data distribution at t = 0. Sampling solves that ordinary
differential equation backwards with Euler steps, from noise to an image:

    x_{t - dt} = x_t - dt v(x_t, t),    dt = 1 / steps

At every step the network also has a guess of the finished image, x_t - t v(x_t, t): where a straight line
along the current velocity would land at t = 0. Few steps are fast but cut the corners of curved paths; more
steps follow them. Like DDPM (Ho et al. 2020), this is a latent-variable model whose "encoder" (adding noise)
is fixed and only the decoder (the denoiser) is learned; Kingma & Gao (NeurIPS 2023) show that this loss, like
DDPM's, is a weighted form of the ELBO.

Class-conditional models learn p(x | y) and, from images shown with the label "none" (label dropout), p(x) in
the same network. Classifier-free guidance mixes the two velocities with a guidance scale s:

    v = v(x_t, t, none) + s (v(x_t, t, y) - v(x_t, t, none))

s = 0 samples p(x), s = 1 samples p(x | y), s > 1 pushes further towards what makes the class the class: samples
look more like the class and less varied. (Ho & Salimans write s = 1 + w.)

Two choices beyond the papers' basics, each for training on a CPU: times t are drawn from a logit-normal
distribution, which trains more where t is near 1/2, where the velocity is hardest to guess (Esser et al. 2024,
"Scaling Rectified Flow Transformers"); and samples come from an exponential moving average of the weights.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from genlab.models import CONDITIONAL, ITERATIVE, SAMPLES, ModelKind, check_choices, register_kind
from genlab.models.base import Model, as_generator
from genlab.models.diffusion.denoiser import Denoiser, frozen_copy, update_average

TIME_SAMPLING = ("logit-normal", "uniform")


@dataclass
class FlowMatchingConfig:
    width: int = field(default=32, metadata={
        "help": "Channels of the U-Net's 28x28 level (the 14x14 and 7x7 levels have twice as many): wider "
                "learns more but trains and samples slower."})
    num_classes: int = field(default=0, metadata={
        "help": "0: unconditional p(x); 10: class-conditional p(x | y) with classifier-free guidance, so you can "
                "ask for 'a 7' or 'a sneaker'."})
    label_dropout: float = field(default=0.2, metadata={
        "help": "For a class-conditional model, the fraction of training images shown with the label 'none', so "
                "the same network also learns p(x), which guidance needs."})
    time_sampling: str = field(default="logit-normal", metadata={
        "choices": TIME_SAMPLING, "help": "How training picks the time t of each image: 'uniform' in [0, 1], or "
                                          "'logit-normal', more often near the middle, where the job is hardest."})
    ema_decay: float = field(default=0.999, metadata={
        "help": "Samples come from an average of the weights over roughly the last 1 / (1 - decay) steps; 0 "
                "samples from the latest weights."})
    image_channels: int = 1
    image_size: int = 28  # must be divisible by 4 (the U-Net halves it twice)

    @classmethod
    def tiny(cls, **overrides) -> "FlowMatchingConfig":
        return cls(**{"width": 8, "image_size": 8, "num_classes": 3, **overrides})

    def __post_init__(self):
        check_choices(self)
        if not 4 <= self.width <= 256 or self.width % 4:
            raise ValueError(f"width must be a multiple of 4 between 4 and 256, not {self.width}")
        if self.num_classes < 0:
            raise ValueError(f"num_classes must be 0 (unconditional) or positive, not {self.num_classes}")
        if not 0 <= self.label_dropout < 1:
            raise ValueError(f"label_dropout must be in [0, 1), not {self.label_dropout}")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay must be in [0, 1), not {self.ema_decay}")
        if self.image_size % 4 or self.image_size < 8:
            raise ValueError(f"image_size must be a multiple of 4 and at least 8, not {self.image_size}")


@dataclass
class Trajectory:
    """One run of the sampler, for watching it: every state x_t and every guess of the finished image."""
    times: torch.Tensor  # (steps + 1,) from 1 (noise) down to 0 (image)
    states: torch.Tensor  # (steps + 1, N, C, H, W) x_t in [0, 1] for display (the last one is the sample)
    guesses: torch.Tensor  # (steps, N, C, H, W) the network's guess of the image at each step, in [0, 1]


class FlowMatching(Model):
    default_lr = 5e-4
    clip_grad_norm = 1.0
    default_steps = 20  # Euler steps (network evaluations per image without guidance; twice that with it)
    default_guidance = 1.5  # the guidance scale s pages start from for a class-conditional model

    def __init__(self, config: FlowMatchingConfig):
        super().__init__()
        self.config = c = config
        self.net = Denoiser(c.image_channels, c.image_size, c.width, c.num_classes)  # trained
        self.ema = frozen_copy(self.net)  # its average, sampled from (buffers: saved, not trained)
        self.register_buffer("steps_done", torch.zeros((), dtype=torch.long))  # for the EMA's warm-up

    @property
    def conditional(self) -> bool:
        return self.config.num_classes > 0

    def describe(self) -> str:
        c = self.config
        what = (f"class-conditional ({c.num_classes} classes, label dropout {c.label_dropout:g}), with "
                "classifier-free guidance" if self.conditional else "unconditional")
        return f"U-Net {c.width}-{2 * c.width}-{2 * c.width} channels; {what}; {self.default_steps} Euler steps by default."

    # -- training ------------------------------------------------------------------------------------------
    def draw_times(self, n: int, device, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n,) training times in (0, 1): uniform, or logit-normal (sigmoid of a standard normal)."""
        if self.config.time_sampling == "uniform":
            return torch.rand(n, device=device, generator=generator)
        return torch.sigmoid(torch.randn(n, device=device, generator=generator))

    def _training_labels(self, y: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor | None:
        """Labels with a fraction replaced by 'none' (index num_classes); None for an unconditional model."""
        if not self.conditional:
            return None
        dropped = torch.rand(y.shape, device=y.device, generator=generator) < self.config.label_dropout
        return torch.where(dropped, self.config.num_classes, y.clamp(0, self.config.num_classes - 1))

    def flow_matching_loss(self, net, x: torch.Tensor, y: torch.Tensor,
                           generator: torch.Generator | None = None) -> torch.Tensor:
        """Per-image loss (B,) for images x (B, C, H, W) in [0, 1]."""
        image = x * 2 - 1  # (B, C, H, W) in [-1, 1]
        noise = torch.randn(image.shape, device=x.device, generator=generator)  # e ~ N(0, I)
        t = self.draw_times(len(x), x.device, generator)  # (B,)
        t_ = t[:, None, None, None]
        x_t = (1 - t_) * image + t_ * noise  # a point on the straight line from the image to the noise
        target = noise - image  # that line's velocity, d x_t / dt
        predicted = net(x_t, t, self._training_labels(y, generator))  # (B, C, H, W)
        return F.mse_loss(predicted, target, reduction="none").flatten(1).mean(1)  # (B,)

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        loss = self.flow_matching_loss(self.net, x, y).mean()
        return loss, {"loss": loss.item()}

    def train_step(self, x: torch.Tensor, y: torch.Tensor, optimizers: dict) -> dict[str, float]:
        report = super().train_step(x, y, optimizers)
        self.steps_done += 1
        steps = self.steps_done.item()
        decay = min(self.config.ema_decay, (1 + steps) / (10 + steps))  # warm-up: early on, follow closely
        update_average(self.ema, self.net, decay)
        return report

    @torch.inference_mode()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None) -> dict:
        """The flow-matching loss of the averaged weights on held-out images (a sum over the batch). It is not a
        likelihood; it measures how well the velocity is predicted, and cannot reach 0."""
        return {"loss": self.flow_matching_loss(self._sampling_net(), x, y, generator).sum().item()}

    # -- the forward process ---------------------------------------------------------------------------------
    @staticmethod
    def forward_process(x: torch.Tensor, t: float, noise: torch.Tensor) -> torch.Tensor:
        """x_t = (1 - t) x + t e for images x (N, C, H, W) in [0, 1] and noise e of the same shape; returned in
        [0, 1] for display (x_t itself lives around [-1, 1] and beyond)."""
        x_t = (1 - t) * (x * 2 - 1) + t * noise
        return ((x_t + 1) / 2).clamp(0, 1)

    # -- sampling ------------------------------------------------------------------------------------------
    def _sampling_net(self):
        return self.ema if self.config.ema_decay > 0 else self.net

    def velocity(self, x_t: torch.Tensor, t: torch.Tensor, label: torch.Tensor | None,
                 guidance: float) -> torch.Tensor:
        """The (guided) velocity at x_t (N, C, H, W), times t (N,): one network pass, or two batched as one."""
        net = self._sampling_net()
        if label is None:
            return net(x_t, t, None)
        none = torch.full_like(label, self.config.num_classes)
        if guidance == 0:
            return net(x_t, t, none)  # p(x): the class is ignored
        if guidance == 1:
            return net(x_t, t, label)  # p(x | y), no extra pass
        both = net(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([label, none]))  # (2N, C, H, W)
        conditional, unconditional = both.chunk(2)
        return unconditional + guidance * (conditional - unconditional)

    def _labels_for(self, n: int, label) -> torch.Tensor | None:
        """None for an unconditional model; otherwise (n,) classes: the ones asked for, or 0, 1, 2, ... in turn."""
        if not self.conditional:
            return None
        device = next(self.parameters()).device
        if label is None:
            return torch.arange(n, device=device) % self.config.num_classes
        label = torch.as_tensor(label, device=device).long()
        label = label.expand(n) if label.dim() == 0 else label  # one class for all, or one per image
        if label.min() < 0 or label.max() >= self.config.num_classes:
            raise ValueError(f"a class must be between 0 and {self.config.num_classes - 1}")
        return label

    @torch.inference_mode()
    def trajectory(self, n: int, generator: int | torch.Generator | None = None, *, steps: int | None = None,
                   label=None, guidance: float | None = None, keep: bool = True) -> Trajectory:
        """Euler steps from pure noise (t = 1) to images (t = 0); keep=False keeps only the end (less memory)."""
        steps = steps or self.default_steps
        guidance = self.default_guidance if guidance is None else guidance
        if steps < 1 or guidance < 0:
            raise ValueError("the number of steps must be at least 1 and the guidance scale 0 or more")
        device = next(self.parameters()).device
        c = self.config
        label = self._labels_for(n, label)
        x = torch.randn(n, c.image_channels, c.image_size, c.image_size,
                        generator=as_generator(generator, "cpu")).to(device)  # (n, C, H, W) x_1: pure noise
        times = torch.linspace(1.0, 0.0, steps + 1, device=device)  # (steps + 1,)
        show = lambda z: ((z + 1) / 2).clamp(0, 1)  # noqa: E731  [-1, 1] -> [0, 1] for display
        states, guesses = [show(x)] if keep else [], []
        was_training = self.training
        self.eval()  # diffusers' attention behaves differently in training mode
        try:
            for t, t_next in zip(times[:-1], times[1:]):
                v = self.velocity(x, t.expand(n), label, guidance)  # (n, C, H, W)
                if keep:
                    guesses.append(show(x - t * v))  # where a straight line along v lands at t = 0
                x = x + (t_next - t) * v  # one Euler step (t_next < t: towards the image)
                if keep:
                    states.append(show(x))
        finally:
            self.train(was_training)
        if not keep:
            states = [show(x)]
        empty = torch.empty(0, *x.shape, device=device)
        return Trajectory(times.cpu(), torch.stack(states), torch.stack(guesses) if guesses else empty)

    @torch.inference_mode()
    def sample(self, n: int, generator: int | torch.Generator | None = None, *, steps: int | None = None,
               label=None, guidance: float | None = None) -> torch.Tensor:
        """n images (n, C, H, W) in [0, 1]. A class-conditional model draws the classes asked for (label: one
        class or (n,)), or 0, 1, 2, ... in turn, with the guidance scale s (default `default_guidance`)."""
        return self.trajectory(n, generator, steps=steps, label=label, guidance=guidance, keep=False).states[-1]


FLOW_MATCHING_KIND = register_kind(ModelKind(
    name="flow-matching", title="Flow matching",
    family="diffusion and flows: an iterative sampler (its density exists through the ODE but is not reported here)",
    summary="A U-Net learns the velocity that carries noise to images along straight lines; sampling follows it "
            "in a few Euler steps.",
    config_cls=FlowMatchingConfig, model_cls=FlowMatching,
    paper="Lipman et al. 2023, Flow Matching for Generative Modeling; Ho & Salimans 2022, classifier-free guidance",
    capabilities=frozenset({SAMPLES, ITERATIVE, CONDITIONAL}),
    no_likelihood="none reported: the ODE defines log p(x), but computing it costs hundreds of passes per image",
    loss_labels={"loss": "flow-matching loss"},
    curve_note="The loss is the squared error of the predicted velocity. It cannot reach 0: many lines pass "
               "through the same noisy image, and the network can only predict their average. Judge by the samples.",
    sample_batch=250,
    live_grid=16,  # 16 images x 20 steps keep the Train page's grid fresh on a CPU
    lesson=12,
))
