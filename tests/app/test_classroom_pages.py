"""A class on one server (AppTest, several browser sessions on one job manager): the teacher key makes a session
the teacher and never shows; a student's uploads stay theirs until the teacher shares them; the teacher panel
stops and deletes; a hostile checkpoint title is shown as plain text, cut short."""
import os
import time
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from genlab import checkpoints
from genlab.checkpoints import save_checkpoint
from genlab.classroom import owner_of
from genlab.data import DATASETS, DatasetSpec, ImageDataset
from genlab.models.vae import VAE, VAEConfig
from genlab.ui.jobs import job_manager

APP = str(Path(__file__).resolve().parents[2] / "app.py")
KEY = os.environ["GENLAB_TEACHER_KEY"]
HOSTILE = "**bold** <b>html</b> [link](http://x.example) $x^2$ " + "y" * 2000


def toy_split(split: str) -> ImageDataset:
    g = torch.Generator().manual_seed(0 if split == "train" else 1)
    n = 256 if split == "train" else 64
    return ImageDataset("toy-room", split, (torch.rand(n, 1, 28, 28, generator=g) > 0.6).float(),
                        torch.randint(0, 2, (n,), generator=g), ["a", "b"], "random pixels")


@pytest.fixture(autouse=True)
def room(monkeypatch, tmp_path):
    monkeypatch.setitem(DATASETS, "toy-room", DatasetSpec("toy-room", "Toy pixels", "Random pixels.", ("a", "b"),
                                                          lambda split, _dir: toy_split(split), "Made by code."))
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", tmp_path / "no-shipped-models")  # only this room's files
    yield
    job_manager().shutdown()
    job_manager.clear()


def session(page: str, teacher: bool = False, key: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    if teacher or key:
        at.query_params["teacher"] = key or KEY
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def checkpoint_bytes(title: str, tmp_path) -> bytes:
    torch.manual_seed(0)
    path = save_checkpoint(tmp_path / "up.safetensors", VAE(VAEConfig.tiny()), "vae",
                           {"dataset": "toy-room", "title": title})
    return path.read_bytes()


def texts(at: AppTest) -> str:
    """Everything the page wrote as text, for searching."""
    parts = [e.value for kind in ("markdown", "caption", "text", "success", "info", "error", "warning", "subheader",
                                  "title") for e in at.get(kind) if isinstance(getattr(e, "value", None), str)]
    return "\n".join(parts)


def test_the_key_makes_the_teacher_and_leaves_the_address_bar_and_the_page():
    teacher = session("views/4_Train.py", teacher=True)
    assert "teacher" not in teacher.query_params  # not in the projected address bar
    assert "the teacher" in texts(teacher) and KEY not in texts(teacher)
    assert any("Teacher panel" in e.label for e in teacher.expander)
    student = session("views/4_Train.py")
    assert "student" in texts(student) and not any("Teacher panel" in e.label for e in student.expander)
    wrong = session("views/4_Train.py", key="guess")
    assert "That teacher key is not right" in texts(wrong) and "guess" not in wrong.query_params.values()


def upload_checkpoint(at: AppTest, data: bytes) -> AppTest:
    at.file_uploader(key="vae_model_upload").upload("mine.safetensors", data)
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at.run()  # the picker selects the new upload on the next run


def test_a_students_upload_is_theirs_until_the_teacher_shares_it(tmp_path):
    ann = upload_checkpoint(session("views/1_VAE_explorer.py"), checkpoint_bytes("Ann's VAE", tmp_path))
    assert any("Ann's VAE" in option for option in ann.selectbox(key="vae_model").options)
    ben = session("views/1_VAE_explorer.py")
    assert not any("Ann's VAE" in option for option in ben.selectbox(key="vae_model").options) \
        if ben.get("selectbox") else True
    teacher = session("views/4_Train.py", teacher=True)
    assert "Ann's VAE" in texts(teacher) and "private" in texts(teacher)
    teacher.button(key="teacher_share_0").click().run()
    ben = session("views/1_VAE_explorer.py")
    assert any("Ann's VAE" in option for option in ben.selectbox(key="vae_model").options)


def test_the_teacher_panel_stops_a_students_run_and_deletes_its_checkpoint():
    student = session("views/4_Train.py")
    student.selectbox(key="train_dataset").set_value("toy-room")
    student.radio(key="train_preset").set_value("Custom").run()
    student.number_input(key="train_minutes").set_value(5.0)
    student.number_input(key="train_cfg_vae_latent_dim").set_value(2)
    student.button(key="train_start").click().run()
    assert not student.error, [e.value for e in student.error]
    student.button(key="train_start").click().run()  # a second run: refused with one sentence
    assert "You already have a run on this server" in student.error[0].value
    [job] = job_manager().jobs()
    deadline = time.monotonic() + 120
    while job.view().step == 0:  # a run stopped before its first step saves nothing
        assert time.monotonic() < deadline
        time.sleep(0.1)
    teacher = session("views/4_Train.py", teacher=True)
    assert "train_stop" in [b.key for b in teacher.button]  # the teacher may stop a student's run
    teacher.button(key=f"teacher_stop_{job.id}").click().run()
    assert job.finished.wait(120) and job.view().stopped_by_user
    path = Path(job.view().checkpoint)
    assert path.exists() and owner_of(path) is not None
    teacher.run()
    teacher.button(key="teacher_delete_0").click().run()
    assert not path.exists()


def test_a_hostile_title_is_shown_as_plain_text_and_cut_short(tmp_path):
    teacher = upload_checkpoint(session("views/1_VAE_explorer.py", teacher=True), checkpoint_bytes(HOSTILE, tmp_path))
    [option] = [o for o in teacher.selectbox(key="vae_model").options if "bold" in o]
    assert len(option) < 120 and "y" * 100 not in option
    card = [m.value for m in teacher.markdown if "bold" in m.value]
    assert card and all("**bold**" not in m and "<b>" not in m and "y" * 100 not in m for m in card)
    assert any(r"\*\*bold\*\* \<b\>html\</b\>" in m for m in card)
