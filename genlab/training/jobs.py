"""Background training jobs, shared by every browser session of one server.

A JobManager (one per server process; the Train page keeps it in st.cache_resource) owns the jobs. Each job
runs the one training recipe (genlab.training.run) in a thread of the server process and publishes, under a lock, what a page shows:
state, step, epoch, losses (a bounded history), images per second, ETA, the latest sample grid (fixed seed,
so consecutive frames are comparable), held-out metrics, the latent means of a fixed test batch for a model
with a 2-D code, and the error if it failed. The grid, latent map and held-out metrics are drawn beside the
training thread, from a copy of the weights (genlab.training.live). Pages only read a job (`manager.view(job_id)`),
so reloading, switching pages or a second browser never stops, restarts or duplicates it.

A job stops on a flag checked between steps. A finished or stopped job saves a checkpoint (atomically, with
optimiser state so it can be resumed) into the user checkpoint folder, where every page's picker finds it.
A NaN or infinite loss fails the job with a clear message; the last good weights are kept and saved.
At most `max_running` jobs train at once (GENLAB_MAX_JOBS; default one per GPU, one on a CPU); the others
wait in a queue and say so.

Every job has an owner (genlab/classroom.py): the teacher, or a student's anonymous label. A student may run one
job at a time, within the caps the teacher sets (`manager.caps`), and stop only their own; their checkpoints go
to their private folder. Anything refused is a JobError with one sentence, whatever the page showed.
"""
from __future__ import annotations

import atexit
import datetime
import logging
import math
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from genlab.checkpoints import CheckpointError, read_card
from genlab.classroom import TEACHER, Caps, home_of
from genlab.data import DATASETS, DatasetMissing
from genlab.device import pick_device
from genlab.models import KINDS, get_kind
from genlab.models.base import count_parameters, with_bits_per_dim
from genlab.training.live import Frame, LatentMap, LiveExtras
from genlab.training.loss_history import LossHistory
from genlab.training.run import RunSpec, TrainingRun, build_config
from genlab.training.trainer import TrainEvent

log = logging.getLogger(__name__)
if not log.handlers:  # a line per job start, end and minute in the server's terminal
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s genlab.training.jobs %(message)s"))
    log.addHandler(_handler)
    log.setLevel(logging.INFO)
    log.propagate = False

ACTIVE_STATES = ("queued", "running", "stopping")
FINISHED_STATES = ("done", "failed", "cancelled")
KEEP_FINISHED = 50  # finished jobs remembered by the manager
LOG_EVERY_S = 60  # a progress line in the server's terminal this often


class JobError(ValueError):
    """A training request that cannot be accepted; the message is one sentence for the page."""


@dataclass
class JobSpec(RunSpec):
    """A run asked for on the Train page (genlab.training.run.RunSpec); by default a minute long."""
    minutes: float | None = 1.0


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
    latest: dict[str, float]  # the last step's losses, not averaged
    held_out_steps: list[int]
    held_out: dict[str, list[float]]
    grid_png: bytes | None
    grid_step: int
    latent: LatentMap | None
    error: str | None
    checkpoint: str | None  # set once the checkpoint file is written
    stopped_by_user: bool
    owner: str = TEACHER
    queue_message: str | None = None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


class Job:
    def __init__(self, job_id: int, spec: JobSpec, checkpoint_path: Path, owner: str = TEACHER):
        self.id = job_id
        self.spec = spec
        self.owner = owner  # the teacher, or a student's anonymous label
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
                loss_steps=loss_steps, losses=losses, latest=dict(self.history.latest),
                held_out_steps=list(self.held_out_steps),
                held_out={k: list(v) for k, v in self.held_out.items()}, grid_png=self.grid_png,
                grid_step=self.grid_step, latent=self.latent, error=self.error, checkpoint=self.checkpoint,
                stopped_by_user=self.stopped_by_user, owner=self.owner, queue_message=queue_message)


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
        self.caps = Caps()  # what students may start; the teacher changes it while the server runs
        self.devices = available_devices()
        self.max_running = max_running or int(os.environ.get("GENLAB_MAX_JOBS", 0)) or len(self.devices)
        self.max_queued = max_queued
        self._jobs: dict[int, Job] = {}
        self._lock = threading.RLock()
        self._next_id = 1
        atexit.register(self.shutdown)  # a server stopped with Ctrl-C still saves its running jobs

    # -- what pages call ----------------------------------------------------------------------------------
    def submit(self, spec: JobSpec, owner: str = TEACHER) -> Job:
        """Check the request (and, for a student, the caps), then start the job now or queue it. Raises JobError
        (one sentence)."""
        checkpoint_path = self._validate(spec, owner)
        with self._lock:
            waiting = sum(j.state == "queued" for j in self._jobs.values())
            if waiting >= self.max_queued:
                raise JobError(f"{waiting} runs are already waiting for this server; try again when one has "
                               "finished.")
            if owner != TEACHER:
                self._check_student(spec, owner)
            job = Job(self._next_id, spec, checkpoint_path, owner)
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

    def stop(self, job_id: int, by: str = TEACHER) -> None:
        """Ask a job to stop after its current step (it then saves its checkpoint); a queued job is dropped. Only
        the teacher and the job's owner may: anyone else gets a JobError."""
        with self._lock:  # no queued job starts meanwhile
            job = self._jobs.get(job_id)
            if job is None:
                return
            if not self.may_stop(by, job.owner):
                raise JobError("Only the teacher, or the student who started it, can stop this run.")
            job.request_stop()

    @staticmethod
    def may_stop(by: str, owner: str) -> bool:
        return by == TEACHER or by == owner

    def clear_queue(self, by: str) -> int:
        """The teacher drops every waiting run; returns how many."""
        if by != TEACHER:
            raise JobError("Only the teacher can clear the queue.")
        with self._lock:
            waiting = [j for j in self._jobs.values() if j.state == "queued"]
            for job in waiting:
                job.request_stop()
        return len(waiting)

    def set_caps(self, caps: Caps, by: str) -> None:
        if by != TEACHER:
            raise JobError("Only the teacher can change what students may train.")
        caps.check()
        self.caps = caps

    def shutdown(self, wait_s: float = 60) -> None:
        """Stop every job and wait (up to wait_s) for their checkpoints to be written."""
        for job in self.jobs():
            self.stop(job.id)
        deadline = time.monotonic() + wait_s
        for job in self.jobs():
            if job.thread is not None:
                job.thread.join(max(0.0, deadline - time.monotonic()))

    # -- bookkeeping --------------------------------------------------------------------------------------
    def _check_student(self, spec: JobSpec, owner: str) -> None:
        """A student's request within the teacher's caps (called under the lock, after _validate)."""
        caps = self.caps
        if not caps.training:
            raise JobError("The teacher has turned training off for now.")
        mine = [j for j in self._jobs.values() if j.owner == owner and j.state in ACTIVE_STATES]
        if mine:
            raise JobError(f"You already have a run on this server (job {mine[0].id}); stop it or let it finish "
                           "before you start another.")
        if spec.minutes is None or spec.minutes > caps.minutes:
            raise JobError(f"Students may train for at most {caps.minutes:g} minutes per run (the teacher sets "
                           "this): choose a time limit of that or less.")
        students_waiting = sum(j.state == "queued" and j.owner != TEACHER for j in self._jobs.values())
        if students_waiting >= caps.queued:
            raise JobError(f"{students_waiting} students' runs are already waiting, the most the teacher allows; "
                           "try again when one has started.")

    def _validate(self, spec: JobSpec, owner: str = TEACHER) -> Path:
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
            try:
                config = get_kind(spec.kind).config_from_dict(card.get("config", {}))
            except (TypeError, ValueError) as e:
                raise JobError(f"That checkpoint's settings are not valid: {e}.") from None
        else:
            try:
                config = build_config(spec.kind, spec.config, DATASETS[spec.dataset].image_shape)
            except (TypeError, ValueError) as e:
                raise JobError(f"Check the model settings: {e}.") from None
        if owner != TEACHER:
            with torch.device("meta"):  # the size only: no memory, however large the request
                size = count_parameters(get_kind(spec.kind).build(config))
            if size > self.caps.parameters:
                raise JobError(f"That model has {size:,} weights; students may train at most "
                               f"{self.caps.parameters:,} (the teacher sets this).")
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        return home_of(owner) / spec.dataset / f"{spec.kind}-{stamp}-job{self._next_id}.safetensors"

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


class JobRun:
    """One job's work in its thread: the one training recipe (genlab.training.run), with live extras."""

    def __init__(self, job: Job, device: torch.device):
        self.job, self.spec, self.device = job, job.spec, device
        self.next_log = 0.0

    def execute(self) -> None:
        job, spec = self.job, self.spec
        run = TrainingRun(spec, job.checkpoint_path, self.device, command=spec.command_line(job.checkpoint_path),
                          card_extra={"title": job.title, "trained_in": f"the genlab Train page (job {job.id})"},
                          callbacks=[self._on_event], stop=job.stop_event)
        run.prepare()
        self.model, self.test_set, self.kind = run.model, run.test_set, get_kind(spec.kind)
        job.set(step=run.before.steps, start_step=run.before.steps, phase="training")
        log.info("job %d: training %s on %s (%s, %d CPU threads)", job.id, spec.kind, spec.dataset, self.device,
                 torch.get_num_threads())
        self.extras = LiveExtras(self.model, run.test_set, self.device, self._publish,  # grids beside training
                                 grid_count=self.kind.live_grid)
        try:
            self.extras.draw_now(run.before.steps)  # the first frame: what the untrained (or resumed) model makes
            failure = run.train()  # a NaN loss: the trainer has put the last good weights back
            if run.steps_done:
                self.extras.draw_now(run.trainer.step)  # the final frame
        finally:
            self.extras.close()
        if not run.steps_done:
            job.set(state="done" if failure is None else "failed", phase="stopped before the first step",
                    error=failure)
            return
        run.finish(on_phase=lambda text: job.set(phase=text))
        job.set(checkpoint=str(job.checkpoint_path), state="done" if failure is None else "failed",
                phase="saved" if failure is None else "stopped: the loss was not finite", error=failure)
        log.info("job %d: saved %s after %d steps", job.id, job.checkpoint_path, run.trainer.step)

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
        """A new frame from genlab.training.live (usually from its drawing thread) becomes what the pages show."""
        self.job.set(grid_png=frame.grid_png, grid_step=frame.step,
                     **({"latent": frame.latent} if frame.latent is not None else {}))
        if frame.held_out:
            self.job.record_held_out(frame.step, with_bits_per_dim(frame.held_out, self.test_set.images[0].numel(),
                                                                   self.kind.likelihood_metric))
