"""Who may start and stop training on a class's server (genlab/training/jobs.py with genlab/classroom.py): a
student runs one job at a time within the teacher's caps and stops only their own; the teacher stops anything."""
import pytest
import torch

from genlab.classroom import TEACHER, Caps, owner_of
from genlab.data import DATASETS, DatasetSpec, ImageDataset
from genlab.training.jobs import JobError, JobManager, JobSpec

TINY = {"latent_dim": 2, "width": 4, "hidden": 16}
ANN, BEN = "student-ann", "student-ben"


def toy_split(split: str) -> ImageDataset:
    g = torch.Generator().manual_seed(0 if split == "train" else 1)
    n = 256 if split == "train" else 64
    return ImageDataset("toy-class", split, (torch.rand(n, 1, 28, 28, generator=g) > 0.6).float(),
                        torch.randint(0, 2, (n,), generator=g), ["a", "b"], "random pixels")


@pytest.fixture(autouse=True)
def toy_dataset(monkeypatch):
    monkeypatch.setitem(DATASETS, "toy-class", DatasetSpec("toy-class", "Toy", "Random pixels.", ("a", "b"),
                                                           lambda split, _dir: toy_split(split), "Made by code."))


@pytest.fixture
def manager():
    jobs = JobManager(max_running=1)
    yield jobs
    jobs.shutdown()


def spec(minutes=5.0, **changes) -> JobSpec:
    return JobSpec(**{"kind": "vae", "dataset": "toy-class", "config": TINY, "minutes": minutes, "batch_size": 32,
                      **changes})


def test_a_student_stops_only_their_own_run_and_the_teacher_stops_any(manager):
    teachers = manager.submit(spec(minutes=30))  # the teacher's demonstration, past the students' cap
    anns = manager.submit(spec(), owner=ANN)  # queued behind it (one slot)
    for job, by in ((teachers, ANN), (anns, BEN)):
        with pytest.raises(JobError, match="Only the teacher, or the student who started it"):
            manager.stop(job.id, by=by)  # a forged request from a page that showed no button
        assert not job.stop_event.is_set()
    manager.stop(anns.id, by=ANN)
    assert anns.view().state == "cancelled"
    manager.stop(teachers.id, by=TEACHER)
    assert teachers.finished.wait(120) and teachers.view().stopped_by_user


def test_a_students_second_run_is_refused_with_a_sentence(manager):
    first = manager.submit(spec(), owner=ANN)
    with pytest.raises(JobError, match=f"You already have a run on this server \\(job {first.id}\\)"):
        manager.submit(spec(), owner=ANN)
    manager.submit(spec(), owner=BEN)  # another student may
    manager.stop(first.id, by=ANN)
    assert first.finished.wait(120)
    manager.submit(spec(), owner=ANN)  # and after the first has ended, Ann may again


def test_the_caps_hold_for_students_and_not_for_the_teacher(manager):
    manager.set_caps(Caps(minutes=2, parameters=20_000, queued=1), by=TEACHER)
    with pytest.raises(JobError, match="at most 2 minutes"):
        manager.submit(spec(minutes=3), owner=ANN)
    with pytest.raises(JobError, match="at most 2 minutes"):
        manager.submit(spec(minutes=None, epochs=50), owner=ANN)  # epochs alone have no time limit
    with pytest.raises(JobError, match=r"That model has [\d,]+ weights; students may train at most 20,000"):
        manager.submit(spec(minutes=1, config={**TINY, "hidden": 256}), owner=ANN)
    small = manager.submit(spec(minutes=1), owner=ANN)  # the tiny VAE has 14,237 weights
    assert owner_of(small.checkpoint_path) == ANN  # into Ann's private folder
    waiting = manager.submit(spec(minutes=1), owner=BEN)  # queued behind Ann's: the students' one queue place
    assert waiting.view().state == "queued"
    with pytest.raises(JobError, match="students' runs are already waiting"):
        manager.submit(spec(minutes=1), owner="student-cy")
    manager.submit(spec(minutes=60, config={**TINY, "hidden": 256}), owner=TEACHER)  # no caps for the teacher


def test_the_teacher_can_turn_training_off_and_clear_the_queue(manager):
    running = manager.submit(spec(minutes=30))
    waiting = [manager.submit(spec(), owner=ANN), manager.submit(spec(), owner=BEN)]
    with pytest.raises(JobError, match="Only the teacher can clear the queue"):
        manager.clear_queue(by=ANN)
    with pytest.raises(JobError, match="Only the teacher can change"):
        manager.set_caps(Caps(training=False), by=ANN)
    assert manager.clear_queue(by=TEACHER) == 2 and all(j.view().state == "cancelled" for j in waiting)
    manager.set_caps(Caps(training=False), by=TEACHER)
    with pytest.raises(JobError, match="turned training off"):
        manager.submit(spec(), owner=ANN)
    manager.stop(running.id)
