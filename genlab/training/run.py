"""The one training recipe: build (or resume) a model, train it, evaluate it, write its model card, save it.

The command line (`python -m genlab train`) and the Train page's background jobs (genlab/training/jobs.py) are
two thin callers of `TrainingRun`, so a checkpoint made either way is made the same way:

    run = TrainingRun(RunSpec(kind_name, "fashion-mnist", minutes=1), out="x.safetensors", command="...")
    run.prepare()       # load the data; build the model, or resume one (its weights, optimiser and step count)
    failure = run.train()  # None, or the sentence that stopped it (a NaN loss: the last good weights are kept)
    card = run.finish()    # evaluate on the test split (unless it failed), write the card, save atomically

Under torchrun (`world`: several processes, genlab/training/distributed.py) every process runs the same recipe
on its share of the data; they evaluate a part of the test split each and add their sums, and only rank 0
writes the checkpoint. The card records the number of processes and the global batch.

Settings given for a resumed run win over the saved ones: a new learning rate replaces the checkpoint's after
its optimiser state is restored, and config settings that keep every weight's shape (beta, a GAN's loss, ...)
may change too. The card records what was used.
"""
from __future__ import annotations

import dataclasses
import shlex
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from genlab.checkpoints import save_checkpoint
from genlab.data import ImageDataset, load_dataset
from genlab.device import describe_device
from genlab.models import get_kind
from genlab.models.base import evaluate_model, learning_rate, set_learning_rate, with_bits_per_dim
from genlab.models.loading import load_checkpoint
from genlab.training import distributed
from genlab.training.distributed import SINGLE, World
from genlab.training.trainer import NonFiniteLoss, Trainer, TrainEvent, TrainSettings


@dataclass
class RunSpec:
    """What to train. `config` holds config fields to change; the image shape always comes from the data."""
    kind: str
    dataset: str
    config: dict = field(default_factory=dict)
    epochs: float | None = None  # passes over the training split...
    minutes: float | None = None  # ...a time limit...
    steps: int | None = None  # ...or a number of optimisation steps: whichever comes first
    batch_size: int = 128
    lr: float | None = None  # None: the model's default (or, when resuming, the checkpoint's)
    seed: int = 0
    resume_from: str | None = None  # a checkpoint: weights, optimiser state and step count carry on
    title: str | None = None
    half: bool = False  # store float16 weights (and evaluate exactly those)
    weights_only: bool = False  # leave out the optimiser state

    def settings(self) -> TrainSettings:
        epochs = self.epochs if (self.epochs or self.minutes or self.steps) else 1.0  # nothing given: one epoch
        return TrainSettings(epochs=epochs, max_seconds=self.minutes * 60 if self.minutes else None,
                             max_steps=self.steps, batch_size=self.batch_size, lr=self.lr, seed=self.seed)

    def command_line(self, out: str | Path) -> str:
        """The equivalent `python -m genlab train` command, recorded in the model card of a job's run."""
        parts = ["python", "-m", "genlab", "train", self.kind, "--dataset", self.dataset]
        for name, value in self.config.items():
            parts += ["--" + name.replace("_", "-"), str(value)]
        for flag, value in (("--epochs", self.epochs), ("--minutes", self.minutes), ("--steps", self.steps)):
            if value:
                parts += [flag, f"{value:g}"]
        parts += ["--batch-size", str(self.batch_size), "--seed", str(self.seed)]
        if self.lr:
            parts += ["--lr", f"{self.lr:g}"]
        if self.resume_from:
            parts += ["--resume", str(self.resume_from)]
        parts += ["--half"] if self.half else []
        parts += ["--weights-only"] if self.weights_only else []
        return shlex.join(parts + ["--out", str(out)])


def build_config(kind_name: str, changes: dict, image_shape: tuple[int, ...]):
    """A new model's config: the kind's defaults, the requested changes, and the dataset's image shape."""
    kind = get_kind(kind_name)
    names = {f.name for f in dataclasses.fields(kind.config_cls)}
    unknown = set(changes) - names
    if unknown:
        raise ValueError(f"{kind.title} has no setting {', '.join(sorted(unknown))}")
    shape = {"image_channels": image_shape[0], "image_size": image_shape[-1]}
    return kind.config_cls(**{**{k: v for k, v in shape.items() if k in names}, **changes})


@dataclass
class Before:
    """What a resumed checkpoint had already done."""
    steps: int = 0
    epochs: float = 0.0
    wall_time_s: float = 0.0


class TrainingRun:
    def __init__(self, spec: RunSpec, out: str | Path, device: torch.device | str = "cpu", *, command: str,
                 card_extra: dict | None = None, callbacks: list[Callable[[TrainEvent], None]] | None = None,
                 stop: threading.Event | None = None, world: World = SINGLE):
        self.spec, self.out, self.device = spec, Path(out), torch.device(device)
        self.world = world  # this process's rank among the processes torchrun started (one: rank 0 of 1)
        self.command = command  # how this run was started: the card's reproduction recipe
        self.card_extra = card_extra or {}
        self.callbacks = callbacks or []
        self.stop = stop or threading.Event()
        self.wall_s = 0.0
        self.failure: str | None = None
        self.grown: list[str] = []  # weights a resumed model added (new settings that start without effect)

    # -- 1. data and model ---------------------------------------------------------------------------------
    def prepare(self) -> None:
        spec = self.spec
        settings = spec.settings()  # raises ValueError (one sentence) for impossible settings
        self.train_set: ImageDataset = load_dataset(spec.dataset, "train")
        self.test_set: ImageDataset = load_dataset(spec.dataset, "test")
        self.model, optimizers, self.before = (self._resume() if spec.resume_from else self._new())
        self.trainer = Trainer(self.model, self.train_set, settings, device=self.device, optimizers=optimizers,
                               callbacks=self.callbacks, stop=self.stop, start_step=self.before.steps,
                               world=self.world)

    def _new(self):
        kind = get_kind(self.spec.kind)
        model = kind.build(build_config(self.spec.kind, self.spec.config, self.train_set.image_shape))
        return model.to(self.device), None, Before()

    def _resume(self):
        spec = self.spec
        previous = load_checkpoint(spec.resume_from, device=self.device, expect_kind=spec.kind)
        model = previous.model
        if spec.config:  # settings that keep every weight's shape may change; the architecture may not
            kind = get_kind(spec.kind)
            config = kind.config_from_dict({**previous.card["config"], **spec.config})
            changed = kind.build(config).to(self.device)
            saved, wanted = set(model.state_dict()), set(changed.state_dict())
            grows = saved < wanted and changed.adds_without_effect(wanted - saved)
            self.grown = sorted(wanted - saved) if grows else []
            try:
                changed.load_state_dict(model.state_dict(), strict=not self.grown)
            except RuntimeError:
                raise ValueError(f"{', '.join(sorted(spec.config))} would change the shape of the model's weights, "
                                 "so it cannot change when resuming; start a new model instead") from None
            model = changed
        model.train()
        shape = (model.config.image_channels, model.config.image_size, model.config.image_size)
        if tuple(self.train_set.image_shape) != shape:
            raise ValueError(f"That checkpoint makes {shape[1]}x{shape[2]} images with {shape[0]} channel(s), but "
                             f"{spec.dataset} has {self.train_set.image_shape[1]}x{self.train_set.image_shape[2]} "
                             f"with {self.train_set.image_shape[0]}.")
        optimizers = model.make_optimizers()
        # Adam's moments and step counts; a model that grew new weights starts its optimiser afresh
        self.restored_optimizer = not self.grown and previous.restore_optimizers(optimizers)
        if spec.lr:  # after restoring: the rate asked for now wins over the saved one
            set_learning_rate(optimizers, spec.lr)
        card = previous.card
        return model, optimizers, Before(int(card.get("steps", 0)), float(card.get("epochs", 0.0)),
                                         float(card.get("wall_time_s", 0.0)))

    # -- 2. training -----------------------------------------------------------------------------------------
    def train(self) -> str | None:
        """Train; returns None, or the sentence that stopped training early (the last good weights are kept)."""
        started = time.perf_counter()
        try:
            self.trainer.run()
        except NonFiniteLoss as e:
            self.failure = str(e)
        self.wall_s = time.perf_counter() - started
        return self.failure

    @property
    def steps_done(self) -> int:
        return self.trainer.step - self.before.steps

    # -- 3. evaluation, card, file ---------------------------------------------------------------------------
    def finish(self, on_phase: Callable[[str], None] | None = None) -> dict:
        """Evaluate (unless training failed), write the model card and save the checkpoint; returns the card."""
        phase = on_phase or (lambda text: None)
        spec, kind = self.spec, get_kind(self.spec.kind)
        if spec.half:  # evaluate the weights exactly as they will be stored, so the card matches `eval`
            self.model.half().float()
        metrics = {}
        if self.failure is None:
            phase("measuring the test split")
            metrics = self._evaluate()
        phase("saving the checkpoint")
        steps_per_epoch = self.trainer.steps_per_epoch
        dims = self.test_set.images[0].numel()
        card = {
            "title": spec.title or f"{spec.kind} on {spec.dataset}",
            "dataset": spec.dataset, "train_split": "train", "eval_split": "test",
            "train_source": self.train_set.source, "eval_source": self.test_set.source,
            "image_shape": list(self.train_set.image_shape), "class_names": self.train_set.class_names,
            "steps": self.trainer.step,
            "epochs": round(self.before.epochs + self.steps_done / steps_per_epoch, 3),
            "batch_size": spec.batch_size, **self._processes(), "lr": learning_rate(self.trainer.optimizers), "seed": spec.seed,
            "wall_time_s": round(self.before.wall_time_s + self.wall_s, 1), "device": describe_device(self.device),
            "metrics": {k: round(v, 4) for k, v in with_bits_per_dim(metrics, dims, kind.likelihood_metric).items()},
            "command": self.command,
            "stopped_early": self.stop.is_set(),
            **self.card_extra,
        }
        if spec.resume_from:
            card["resumed_from"] = Path(spec.resume_from).name
        if self.failure:
            card["note"] = self.failure
        finite = all(torch.isfinite(t).all() for o in self.trainer.optimizers.values()
                     for state in o.state.values() for t in state.values() if torch.is_tensor(t))
        keep_optimizers = not spec.weights_only and finite  # a NaN in Adam's moments would poison a resume
        if self.world.is_main:
            save_checkpoint(self.out, self.model, spec.kind, card, half=spec.half,
                            optimizers=self.trainer.optimizers if keep_optimizers else None)
        distributed.barrier()  # the others wait until the file is there
        self.card, self.metrics = card, metrics
        return card

    def _evaluate(self) -> dict[str, float]:
        if not self.world.distributed:
            return evaluate_model(self.model, self.test_set, self.device)
        return evaluate_model(self.model, self.test_set, self.device,
                              part=distributed.shard(len(self.test_set), self.world),
                              add_parts=lambda sums: distributed.sum_over_processes(sums, self.device))

    def _processes(self) -> dict:
        """For the card: how many processes trained it, and the images each step saw over all of them."""
        if not self.world.distributed:
            return {}
        return {"world_size": self.world.size, "global_batch_size": self.spec.batch_size * self.world.size}
