"""Background training jobs, shared by every browser session of one server.

A JobManager (one per server process; the Train page keeps it in st.cache_resource) owns the jobs. Each job
runs genlab.train.Trainer in a thread of the server process and publishes, under a lock, what a page shows:
state, step, epoch, losses (a bounded history), images per second, ETA, the latest sample grid (fixed seed,
so consecutive frames are comparable), held-out metrics, the latent means of a fixed test batch for a model
with a 2-D code, and the error if it failed. The grid, latent map and held-out metrics are drawn beside the
training thread, from a copy of the weights (genlab.job_extras). Pages only read a job (`manager.view(job_id)`),
so reloading, switching pages or a second browser never stops, restarts or duplicates it.

A job stops on a flag checked between steps. A finished or stopped job saves a checkpoint (atomically, with
optimiser state so it can be resumed) into the user checkpoint folder, where every page's picker finds it.
A NaN or infinite loss fails the job with a clear message; the last good weights are kept and saved.
At most `max_running` jobs train at once (GENLAB_MAX_JOBS; default one per GPU, one on a CPU); the others
wait in a queue and say so.
"""
from __future__ import annotations

import atexit
import dataclasses
import datetime
import logging
import math
import os
import shlex
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from genlab.checkpoints import CheckpointError, load_checkpoint, read_card, save_checkpoint, user_checkpoint_dir
from genlab.data import DATASETS, DatasetMissing, ImageDataset, load_dataset
from genlab.device import describe_device, pick_device
from genlab.job_extras import Frame, LatentMap, LiveExtras
from genlab.metrics import nats_to_bits_per_dim
from genlab.models import KINDS, get_kind
from genlab.train import NonFiniteLoss, Trainer, TrainEvent, TrainSettings, evaluate_model

log = logging.getLogger(__name__)
if not log.handlers:  # a line per job start, end and minute in the server's terminal
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s genlab.jobs %(message)s"))
    log.addHandler(_handler)
    log.setLevel(logging.INFO)
    log.propagate = False

ACTIVE_STATES = ("queued", "running", "stopping")
FINISHED_STATES = ("done", "failed", "cancelled")
NLL_METRICS = ("neg_elbo", "nll")  # nats per image: also reported in bits per dimension
KEEP_FINISHED = 50  # finished jobs remembered by the manager
LOG_EVERY_S = 60  # a progress line in the server's terminal this often


class JobError(ValueError):
    """A training request that cannot be accepted; the message is one sentence for the page."""


@dataclass
class JobSpec:
    """What to train. `config` holds config fields to change; the image shape always comes from the data."""
    kind: str
    dataset: str
    config: dict = field(default_factory=dict)
    epochs: float | None = None  # passes over the training split...
    minutes: float | None = 1.0  # ...or a time limit (or both: whichever comes first)
    batch_size: int = 128
    lr: float | None = None  # None: the model's default (or the checkpoint's, when resuming)
    seed: int = 0
    resume_from: str | None = None  # a checkpoint: weights, optimiser state and step count carry on
    title: str | None = None

    def settings(self) -> TrainSettings:
        return TrainSettings(epochs=self.epochs, max_seconds=self.minutes * 60 if self.minutes else None,
                             batch_size=self.batch_size, lr=self.lr, seed=self.seed, sample_every_s=0)


class LossHistory:
    """Losses per step, averaged over buckets of steps that double in size whenever the history reaches
    2 * max_points, so a long run keeps at most that many points and the curves keep their shape."""

    def __init__(self, max_points: int = 1000):
        self.max_points = max_points
        self.bucket = 1  # steps averaged into one point
        self.steps: list[int] = []
        self.values: dict[str, list[float]] = {}
        self._sums: dict[str, float] = {}
        self._count = 0

    def add(self, step: int, losses: dict[str, float]) -> None:
        for key, value in losses.items():
            self._sums[key] = self._sums.get(key, 0.0) + value
        self._count += 1
        if self._count < self.bucket:
            return
        self.steps.append(step)
        for key in list(self.values) + [k for k in self._sums if k not in self.values]:  # keep the model's order
            column = self.values.setdefault(key, [math.nan] * (len(self.steps) - 1))
            column.append(self._sums.get(key, math.nan) / self._count)
        self._sums, self._count = {}, 0
        if len(self.steps) >= 2 * self.max_points:
            self._halve()

    def _halve(self) -> None:
        """Merge neighbouring points: each new point is the mean of two and sits at the later step."""
        self.steps = self.steps[1::2]
        for key, column in self.values.items():
            self.values[key] = [(a + b) / 2 for a, b in zip(column[0::2], column[1::2])]
        self.bucket *= 2

    def snapshot(self) -> tuple[list[int], dict[str, list[float]]]:
        return list(self.steps), {key: list(column) for key, column in self.values.items()}


@dataclass(frozen=True)
class JobView:
    """A consistent copy of a job's state, safe to read without the lock."""
    id: int
    kind: str
    dataset: str
    title: str
    state: str
    phase: str
    device: str
    created: float
    step: int
    start_step: int
    epoch: float
    progress: float
    images_per_s: float
    elapsed_s: float
    eta_s: float | None
    loss_steps: list[int]
    losses: dict[str, list[float]]
    held_out_steps: list[int]
    held_out: dict[str, list[float]]
    grid_png: bytes | None
    grid_step: int
    latent: LatentMap | None
    error: str | None
    checkpoint: str | None  # set once the checkpoint file is written
    stopped_by_user: bool
    queue_message: str | None = None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


class Job:
    def __init__(self, job_id: int, spec: JobSpec, checkpoint_path: Path):
        self.id = job_id
        self.spec = spec
        self.checkpoint_path = checkpoint_path
        self.stop_event = threading.Event()  # checked by the trainer between steps
        self.finished = threading.Event()
        self.thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.state, self.phase, self.device = "queued", "waiting for a free slot", ""
        self.created = time.time()
        self.step = self.start_step = 0
        self.epoch = self.progress = self.images_per_s = self.elapsed_s = 0.0
        self.eta_s: float | None = None
        self.history = LossHistory()
        self.held_out_steps: list[int] = []
        self.held_out: dict[str, list[float]] = {}
        self.grid_png: bytes | None = None
        self.grid_step = 0
        self.latent: LatentMap | None = None
        self.error: str | None = None
        self.checkpoint: str | None = None
        self.stopped_by_user = False

    @property
    def title(self) -> str:
        """For pickers and the model card: what was trained, on what, and when (runs differ by their time)."""
        if self.spec.title:
            return self.spec.title
        changed = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in self.spec.config.items())
        when = time.strftime("%H:%M", time.localtime(self.created))
        what = f"{self.spec.kind} ({changed})" if changed else self.spec.kind
        return f"{what} on {self.spec.dataset}, {'continued' if self.spec.resume_from else 'trained'} at {when}"

    def set(self, **values) -> None:
        with self._lock:
            for name, value in values.items():
                setattr(self, name, value)

    def request_stop(self) -> None:
        with self._lock:  # checked and changed together, so a job that has just finished stays finished
            if self.state in FINISHED_STATES:
                return
            self.stop_event.set()
            self.stopped_by_user = True
            if self.state == "queued":
                self.state, self.phase = "cancelled", "stopped before it started"
                self.finished.set()
            else:
                self.state = "stopping"

    def record_step(self, event: TrainEvent) -> None:
        with self._lock:
            self.step, self.epoch, self.progress = event.step, event.epoch, event.progress
            self.images_per_s, self.elapsed_s, self.eta_s = event.images_per_s, event.elapsed_s, event.eta_s
            self.history.add(event.step, event.losses)

    def record_held_out(self, step: int, metrics: dict[str, float]) -> None:
        with self._lock:
            if len(self.held_out_steps) >= 1000:  # keep every other point of a very long run
                self.held_out_steps = self.held_out_steps[1::2]
                self.held_out = {k: v[1::2] for k, v in self.held_out.items()}
            self.held_out_steps.append(step)
            for key, value in metrics.items():
                self.held_out.setdefault(key, [math.nan] * (len(self.held_out_steps) - 1)).append(value)

    def view(self, queue_message: str | None = None) -> JobView:
        with self._lock:
            loss_steps, losses = self.history.snapshot()
            return JobView(
                id=self.id, kind=self.spec.kind, dataset=self.spec.dataset, title=self.title, state=self.state,
                phase=self.phase, device=self.device, created=self.created, step=self.step,
                start_step=self.start_step, epoch=self.epoch, progress=self.progress,
                images_per_s=self.images_per_s, elapsed_s=self.elapsed_s, eta_s=self.eta_s,
                loss_steps=loss_steps, losses=losses, held_out_steps=list(self.held_out_steps),
                held_out={k: list(v) for k, v in self.held_out.items()}, grid_png=self.grid_png,
                grid_step=self.grid_step, latent=self.latent, error=self.error, checkpoint=self.checkpoint,
                stopped_by_user=self.stopped_by_user, queue_message=queue_message)


def training_threads() -> int:
    """CPU threads for a training job: all cores but one (GENLAB_TRAIN_THREADS overrides). The spare core
    keeps the server and the browser responsive; and when other work takes a core, every parallel torch
    operation waits for its slowest thread: on a busy 2-core machine one thread trained the default VAE
    3.5 to 6 times faster than two."""
    if os.environ.get("GENLAB_TRAIN_THREADS"):
        return max(1, int(os.environ["GENLAB_TRAIN_THREADS"]))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores - 1)


TRAINING_NICE = 10  # a training thread's niceness: a class's clicks go first, training takes the rest


def lower_this_threads_priority() -> None:
    """Give the calling thread (a training job) a lower CPU priority than the server's other threads, so every
    student's click is served before the next training step; the job still uses every idle cycle. Linux sets
    niceness per thread (and threads it starts inherit it); raising it needs no privileges. Elsewhere: no-op."""
    if not hasattr(os, "setpriority") or not hasattr(threading, "get_native_id"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), TRAINING_NICE))
    except OSError:  # not allowed here: train at the normal priority
        pass


def available_devices() -> list[torch.device]:
    """One training slot per GPU; otherwise the one device pick_device chooses (GENLAB_DEVICE forces one)."""
    if not os.environ.get("GENLAB_DEVICE") and torch.cuda.is_available():
        return [torch.device("cuda", i) for i in range(torch.cuda.device_count())]
    return [pick_device()]


class JobManager:
    """Owns every training job of this process. Thread-safe; pages call submit, stop, jobs and view."""

    def __init__(self, max_running: int | None = None, max_queued: int = 8):
        self.devices = available_devices()
        self.max_running = max_running or int(os.environ.get("GENLAB_MAX_JOBS", 0)) or len(self.devices)
        self.max_queued = max_queued
        self._jobs: dict[int, Job] = {}
        self._lock = threading.RLock()
        self._next_id = 1
        atexit.register(self.shutdown)  # a server stopped with Ctrl-C still saves its running jobs

    # -- what pages call ----------------------------------------------------------------------------------
    def submit(self, spec: JobSpec) -> Job:
        """Check the request, then start the job now or queue it. Raises JobError (one sentence)."""
        checkpoint_path = self._validate(spec)
        with self._lock:
            waiting = sum(j.state == "queued" for j in self._jobs.values())
            if waiting >= self.max_queued:
                raise JobError(f"{waiting} runs are already waiting for this server; try again when one has "
                               "finished.")
            job = Job(self._next_id, spec, checkpoint_path)
            self._next_id += 1
            self._jobs[job.id] = job
            self._forget_old_jobs()
            self._start_waiting()
        return job

    def jobs(self) -> list[Job]:
        """Every remembered job, newest first."""
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.id, reverse=True)

    def get(self, job_id: int) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def view(self, job_id: int) -> JobView | None:
        job = self.get(job_id)
        return None if job is None else job.view(self._queue_message(job))

    def stop(self, job_id: int) -> None:
        """Ask a job to stop after its current step (it then saves its checkpoint); a queued job is dropped."""
        with self._lock:  # no queued job starts meanwhile
            job = self._jobs.get(job_id)
            if job is not None:
                job.request_stop()

    def shutdown(self, wait_s: float = 60) -> None:
        """Stop every job and wait (up to wait_s) for their checkpoints to be written."""
        for job in self.jobs():
            self.stop(job.id)
        deadline = time.monotonic() + wait_s
        for job in self.jobs():
            if job.thread is not None:
                job.thread.join(max(0.0, deadline - time.monotonic()))

    # -- bookkeeping --------------------------------------------------------------------------------------
    def _validate(self, spec: JobSpec) -> Path:
        if spec.kind not in KINDS:
            raise JobError(f"Unknown model kind '{spec.kind}'.")
        if spec.dataset not in DATASETS:
            raise JobError(f"The dataset '{spec.dataset}' is not available on this server (an uploaded one is "
                           "forgotten when the server restarts: upload it again).")
        try:
            spec.settings()
        except ValueError as e:
            raise JobError(f"Check the settings: {e}.") from None
        if spec.resume_from:
            try:
                card = read_card(spec.resume_from)
            except CheckpointError as e:
                raise JobError(str(e)) from None
            if card["kind"] != spec.kind:
                raise JobError(f"That checkpoint holds a {card['kind']} model, not a {spec.kind}.")
        else:
            try:
                build_config(spec, DATASETS[spec.dataset].image_shape)
            except (TypeError, ValueError) as e:
                raise JobError(f"Check the model settings: {e}.") from None
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        return user_checkpoint_dir() / spec.dataset / f"{spec.kind}-{stamp}-job{self._next_id}.safetensors"

    def _queue_message(self, job: Job) -> str | None:
        with self._lock:
            if job.state != "queued":
                return None
            waiting = sorted(j.id for j in self._jobs.values() if j.state == "queued")
            position = waiting.index(job.id) + 1
        return (f"Waiting in the queue (number {position}): this server trains at most {self.max_running} "
                f"model{'s' if self.max_running > 1 else ''} at a time, and this run starts when one finishes.")

    def _forget_old_jobs(self) -> None:
        finished = [j for j in sorted(self._jobs.values(), key=lambda j: j.id) if j.state in FINISHED_STATES]
        for job in finished[:max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[job.id]

    def _start_waiting(self) -> None:
        """Start queued jobs, oldest first, while there is a free slot; each gets the least busy device."""
        with self._lock:
            running = [j for j in self._jobs.values() if j.state in ("running", "stopping")]
            for job in sorted((j for j in self._jobs.values() if j.state == "queued"), key=lambda j: j.id):
                if len(running) >= self.max_running:
                    break
                load = {str(d): sum(j.device == str(d) for j in running) for d in self.devices}
                device = min(self.devices, key=lambda d: load[str(d)])
                job.set(state="running", phase="loading the data", device=str(device))
                job.thread = threading.Thread(target=self._run, args=(job, device), daemon=True,
                                              name=f"genlab-job-{job.id}")
                running.append(job)
                job.thread.start()

    def _run(self, job: Job, device: torch.device) -> None:
        threads_before = torch.get_num_threads()
        try:
            lower_this_threads_priority()
            if device.type == "cpu":
                torch.set_num_threads(training_threads())
            JobRun(job, device).execute()
        except Exception as e:  # a failed job must say why and never take the server down
            log.exception("training job %s failed", job.id)
            job.set(state="failed", phase="failed", error=_one_sentence(e))
        finally:
            torch.set_num_threads(threads_before)
            job.finished.set()
            self._start_waiting()


def _one_sentence(error: Exception) -> str:
    if isinstance(error, (ValueError, CheckpointError, DatasetMissing)):
        return str(error)
    detail = str(error).splitlines()[0].rstrip(".") if str(error) else "no message"
    return f"Training failed with an unexpected {type(error).__name__} ({detail})."


def build_config(spec: JobSpec, image_shape: tuple[int, ...]):
    """The model config: the kind's defaults, the requested changes, and the dataset's image shape."""
    kind = get_kind(spec.kind)
    names = {f.name for f in dataclasses.fields(kind.config_cls)}
    shape = {"image_channels": image_shape[0], "image_size": image_shape[-1]}
    return kind.config_cls(**{**{k: v for k, v in shape.items() if k in names}, **spec.config})


@dataclass
class _Before:
    """What a resumed checkpoint had already done."""
    steps: int = 0
    epochs: float = 0.0
    wall_time_s: float = 0.0


class JobRun:
    """One job's work in its thread: load, build or resume, train with live extras, evaluate, save."""

    def __init__(self, job: Job, device: torch.device):
        self.job, self.spec, self.device = job, job.spec, device
        self.next_log = 0.0

    def execute(self) -> None:
        job, spec = self.job, self.spec
        train_set, test_set = load_dataset(spec.dataset, "train"), load_dataset(spec.dataset, "test")
        self.model, optimizers, before = self._build(train_set)
        self.test_set = test_set
        trainer = Trainer(self.model, train_set, spec.settings(), device=self.device, optimizers=optimizers,
                          callbacks=[self._on_event], stop=job.stop_event, start_step=before.steps)
        job.set(step=before.steps, start_step=before.steps, phase="training")
        log.info("job %d: training %s on %s (%s, %d CPU threads)", job.id, spec.kind, spec.dataset, self.device,
                 torch.get_num_threads())
        self.extras = LiveExtras(self.model, test_set, self.device, self._publish)  # grids beside training
        failure = None
        try:
            self.extras.draw_now(before.steps)  # the first frame: what the untrained (or resumed) model makes
            started = time.perf_counter()
            try:
                trainer.run()
            except NonFiniteLoss as e:  # the trainer has put the last good weights back
                failure = str(e)
            wall = time.perf_counter() - started
            if trainer.step > before.steps:
                self.extras.draw_now(trainer.step)  # the final frame
        finally:
            self.extras.close()
        if trainer.step == before.steps:
            job.set(state="done" if failure is None else "failed", phase="stopped before the first step",
                    error=failure)
            return
        if failure is None:
            job.set(phase="measuring the test split")
            metrics = evaluate_model(self.model, test_set, self.device) if hasattr(self.model, "evaluate") else {}
        else:
            metrics = {}
        job.set(phase="saving the checkpoint")
        finite = all(torch.isfinite(t).all() for o in trainer.optimizers.values()
                     for state in o.state.values() for t in state.values() if torch.is_tensor(t))
        card = self._card(trainer, train_set, test_set, before, wall, metrics, failure)
        save_checkpoint(job.checkpoint_path, self.model, spec.kind, card,
                        optimizers=trainer.optimizers if finite else None)
        job.set(checkpoint=str(job.checkpoint_path), state="done" if failure is None else "failed",
                phase="saved" if failure is None else "stopped: the loss was not finite", error=failure)
        log.info("job %d: saved %s after %d steps", job.id, job.checkpoint_path, trainer.step)

    def _build(self, train_set: ImageDataset):
        spec, kind = self.spec, get_kind(self.spec.kind)
        if not spec.resume_from:
            model = kind.build(build_config(spec, train_set.image_shape)).to(self.device)
            return model, None, _Before()
        previous = load_checkpoint(spec.resume_from, device=self.device, expect_kind=spec.kind)
        model = previous.model.train()
        shape = (model.config.image_channels, model.config.image_size, model.config.image_size)
        if tuple(train_set.image_shape) != shape:
            raise JobError(f"That checkpoint makes {shape[1]}x{shape[2]} images with {shape[0]} channel(s), but "
                           f"{spec.dataset} has {train_set.image_shape[1]}x{train_set.image_shape[2]} with "
                           f"{train_set.image_shape[0]}.")
        optimizers = model.make_optimizers()
        previous.restore_optimizers(optimizers)  # Adam's moments and step counts carry on
        if spec.lr:
            for optimizer in optimizers.values():
                for group in optimizer.param_groups:
                    group["lr"] = spec.lr
        card = previous.card
        return model, optimizers, _Before(int(card.get("steps", 0)), float(card.get("epochs", 0.0)),
                                          float(card.get("wall_time_s", 0.0)))

    # -- while training ------------------------------------------------------------------------------------
    def _on_event(self, event: TrainEvent) -> None:
        """In the training thread, after each step."""
        if event.kind != "step":
            return
        self.job.record_step(event)
        if time.perf_counter() >= self.next_log:
            self.next_log = time.perf_counter() + LOG_EVERY_S
            log.info("job %d: step %d, %.1f images/s", self.job.id, event.step, event.images_per_s)
        self.extras.offer(event.step)

    def _publish(self, frame: Frame) -> None:
        """A new frame from genlab.job_extras (usually from its drawing thread) becomes what the pages show."""
        self.job.set(grid_png=frame.grid_png, grid_step=frame.step,
                     **({"latent": frame.latent} if frame.latent is not None else {}))
        if frame.held_out:
            self.job.record_held_out(frame.step, with_bits_per_dim(frame.held_out, self.test_set.images[0].numel()))

    # -- at the end -----------------------------------------------------------------------------------------
    def _card(self, trainer: Trainer, train_set, test_set, before: _Before, wall: float, metrics: dict,
              failure: str | None) -> dict:
        spec = self.spec
        steps_per_epoch = math.ceil(len(train_set) / spec.batch_size)
        first = next(iter(trainer.optimizers.values()))
        card = {
            "title": self.job.title, "dataset": spec.dataset, "train_split": "train", "eval_split": "test",
            "train_source": train_set.source, "eval_source": test_set.source,
            "image_shape": list(train_set.image_shape), "class_names": train_set.class_names,
            "steps": trainer.step,
            "epochs": round(before.epochs + (trainer.step - before.steps) / steps_per_epoch, 3),
            "batch_size": spec.batch_size, "lr": first.param_groups[0]["lr"], "seed": spec.seed,
            "wall_time_s": round(before.wall_time_s + wall, 1), "device": describe_device(self.device),
            "metrics": {k: round(v, 4) for k, v in with_bits_per_dim(metrics, test_set.images[0].numel()).items()},
            "command": cli_command(spec, self.job.checkpoint_path),
            "trained_in": f"the genlab Train page (job {self.job.id})",
            "stopped_early": self.job.stop_event.is_set(),
        }
        if spec.resume_from:
            card["resumed_from"] = Path(spec.resume_from).name
        if failure:
            card["note"] = failure
        return card


def with_bits_per_dim(metrics: dict[str, float], dims: int) -> dict[str, float]:
    """Add `<name>_bits_per_dim` for every negative log-likelihood (or bound) given in nats per image."""
    extra = {f"{k}_bits_per_dim": nats_to_bits_per_dim(v, dims) for k, v in metrics.items() if k in NLL_METRICS}
    return {**metrics, **extra}


def cli_command(spec: JobSpec, out: Path) -> str:
    """The equivalent command line, recorded in the model card."""
    parts = ["python", "-m", "genlab", "train", spec.kind, "--dataset", spec.dataset]
    for name, value in spec.config.items():
        parts += ["--" + name.replace("_", "-"), str(value)]
    if spec.epochs:
        parts += ["--epochs", f"{spec.epochs:g}"]
    if spec.minutes:
        parts += ["--minutes", f"{spec.minutes:g}"]
    parts += ["--batch-size", str(spec.batch_size), "--seed", str(spec.seed)]
    if spec.lr:
        parts += ["--lr", f"{spec.lr:g}"]
    if spec.resume_from:
        parts += ["--resume", str(spec.resume_from)]
    return shlex.join(parts + ["--out", str(out)])
