"""Training on several processes started by `torchrun`: data parallelism, with its three steps made explicit.

    torchrun --nproc_per_node 2 -m genlab train vae --dataset digits --epochs 1 --out vae.safetensors

torchrun starts N copies of the command and tells each its RANK and WORLD_SIZE (environment variables). Every
copy holds the whole model. Data parallelism (Li et al. 2020, PyTorch Distributed: Experiences on Accelerating
Data Parallel Training) keeps the copies identical:

1. same start: rank 0's weights and buffers are broadcast to every process before the first step;
2. different data: each epoch, `DistributedSampler` shuffles the training set with the same seed on every
   process and hands process r the images r, r + N, r + 2N, ... of that order (its epoch set every epoch, so each
   epoch has a new order); with --batch-size B a step sees N x B images, the global batch;
3. same step: before any optimiser uses a gradient, the gradient is averaged over the processes (all-reduce),
   so every copy takes exactly the step one process would take on the global batch.

Step 3 is what `DistributedDataParallel` (DDP) does in its backward pass. genlab does it with a hook on each
parameter rather than with the DDP wrapper, because the wrapper averages only gradients of a forward pass that
goes through it, refuses a module called twice before one backward (a GAN's discriminator judges the real
batch, then the fake one), and by default re-broadcasts buffers at every forward, rewriting batch norm's
running statistics in place between a GAN's two players' passes. The hook runs when backward has accumulated a
parameter's gradient (after every use of it in the step), so gradient clipping and the optimiser see the
average, as under DDP, and a GAN's generator and discriminator are averaged separately, each in its own step.
What the hook leaves out is DDP's bucketing, which overlaps communication with the rest of backward.

Batch norm's running statistics are buffers, not gradients: each process updates its own from its own images,
and rank 0's are broadcast to all at the end, as DDP's default (rank 0's buffers) would have it.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DistributedSampler


@dataclass(frozen=True)
class World:
    """Where this process stands: rank r of `size` processes (a single process is rank 0 of 1)."""
    rank: int = 0
    size: int = 1
    local_rank: int = 0  # the process's number on its own machine: which GPU it uses

    @property
    def is_main(self) -> bool:
        """Rank 0 prints the progress bar and writes the checkpoint."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return dist.is_available() and dist.is_initialized()


SINGLE = World()


def started_by_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ and "MASTER_ADDR" in os.environ


def join(device: torch.device) -> tuple[World, torch.device]:
    """Join the process group torchrun set up (gloo on the CPU, NCCL on CUDA); returns this process's World and
    the device it trains on (its own GPU on a CUDA machine)."""
    world = World(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", 0)))
    if device.type == "cuda":
        device = torch.device("cuda", world.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return world, device


def leave() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def same_start(model: nn.Module) -> None:
    """Step 1: every process starts from rank 0's weights and buffers."""
    for tensor in model.state_dict().values():
        dist.broadcast(tensor, src=0)


def average_gradients(model: nn.Module, world: World) -> list:
    """Step 3: all-reduce each parameter's gradient to the mean over the processes as soon as backward has
    accumulated it. Returns the hook handles (call .remove() on each to stop)."""
    def average(parameter: torch.Tensor) -> None:
        dist.all_reduce(parameter.grad, op=dist.ReduceOp.SUM)
        parameter.grad.div_(world.size)

    return [p.register_post_accumulate_grad_hook(average) for p in model.parameters() if p.requires_grad]


def share_buffers(model: nn.Module) -> None:
    """Rank 0's buffers (batch norm's running statistics, step counters, ...) to every process."""
    for buffer in model.buffers():
        dist.broadcast(buffer, src=0)


def epoch_order(n: int, seed: int, epoch: int, world: World) -> torch.Tensor:
    """Step 2: this process's share of epoch `epoch`'s shuffled order of n images: (ceil(n / size),) indices."""
    sampler = DistributedSampler(range(n), num_replicas=world.size, rank=world.rank, shuffle=True, seed=seed)
    sampler.set_epoch(epoch)
    return torch.tensor(list(sampler))


def agree(stop: bool, losses: dict[str, float], device: torch.device) -> tuple[bool, dict[str, float]]:
    """One all-reduce per step: stop if any process wants to (a time limit is read on each clock), and the losses
    averaged over the processes (a NaN on any process makes the average NaN, so all stop together)."""
    values = torch.tensor([float(stop), *losses.values()], dtype=torch.float64, device=device)
    dist.all_reduce(values, op=dist.ReduceOp.SUM)
    mean = (values[1:] / dist.get_world_size()).tolist()
    return bool(values[0] > 0), dict(zip(losses, mean))


def shard(n: int, world: World) -> range:
    """The held-out images this process evaluates: a contiguous block, the blocks covering 0..n-1 once."""
    per = math.ceil(n / world.size)
    return range(min(n, world.rank * per), min(n, (world.rank + 1) * per))


def sum_over_processes(totals: dict[str, float], device: torch.device) -> dict[str, float]:
    """Sums computed on each process's shard -> the sums over the whole set, on every process."""
    if not totals:
        return {}
    values = torch.tensor(list(totals.values()), dtype=torch.float64, device=device)
    dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return dict(zip(totals, values.tolist()))


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()
