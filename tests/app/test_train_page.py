"""The Train page (AppTest): start a run and watch it, two sessions on one job, stop, continue, uploads."""
import io
import os
import pickle
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from genlab.checkpoints import list_checkpoints
from genlab.data import DATASETS, DatasetSpec, ImageDataset, unregister_dataset
from genlab.ui.jobs import job_manager

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def toy_split(split: str) -> ImageDataset:
    g = torch.Generator().manual_seed(0 if split == "train" else 1)
    n = 256 if split == "train" else 64
    return ImageDataset("toy-page", split, (torch.rand(n, 1, 28, 28, generator=g) > 0.6).float(),
                        torch.randint(0, 2, (n,), generator=g), ["a", "b"], "random pixels")


@pytest.fixture(autouse=True)
def toy_dataset_and_fresh_manager(monkeypatch):
    monkeypatch.setitem(DATASETS, "toy-page", DatasetSpec("toy-page", "Toy pixels", "Random pixels.", ("a", "b"),
                                                          lambda split, _dir: toy_split(split), "Made by code."))
    yield
    job_manager().shutdown()
    job_manager.clear()


def open_page(teacher: bool = False) -> AppTest:
    """A new browser session on the Train page: a student, or the teacher (who brought the key in the URL)."""
    at = AppTest.from_file(APP, default_timeout=120)  # through the home page, so links to other pages work
    if teacher:
        at.query_params["teacher"] = os.environ["GENLAB_TEACHER_KEY"]
    at.switch_page("views/4_Train.py").run()
    assert not at.exception
    return at


def start_run(at: AppTest, minutes: float, latent_dim: int = 2) -> None:
    at.selectbox(key="train_dataset").set_value("toy-page")
    at.radio(key="train_preset").set_value("Custom").run()
    at.number_input(key="train_minutes").set_value(minutes)
    at.number_input(key="train_cfg_vae_latent_dim").set_value(latent_dim)
    at.button(key="train_start").click().run()
    assert not at.exception and not at.error


def progress_texts(at: AppTest) -> list[str]:
    return [element.proto.text for element in at.get("progress")]


def rerun_until(at: AppTest, condition, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        at.run()
        assert not at.exception
        if condition(at):
            return
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


def test_the_page_offers_every_generative_kind_with_explained_settings():
    at = open_page()
    assert at.selectbox(key="train_kind").value == "vae"
    assert not any("classifier" in title for title in at.selectbox(key="train_kind").options)
    assert at.number_input(key="train_cfg_vae_latent_dim").help and at.number_input(key="train_cfg_vae_beta").help
    assert [o for o in at.radio(key="train_preset").options][:2] == ["Quick demo: 1 minute", "Better: 10 minutes"]
    assert all(w.help for w in [at.selectbox(key="train_lr"), at.select_slider(key="train_batch")])
    assert "No run yet" in at.info[0].value


def test_a_replica_names_itself_and_says_what_it_shares(monkeypatch):
    assert not any("This server:" in c.value for c in open_page().caption)  # a single server says nothing
    monkeypatch.setenv("GENLAB_REPLICA", "replica 2 of 3 (port 8602)")  # as scripts/replicas.py starts it
    captions = [c.value for c in open_page().caption]
    assert any("This server: replica 2 of 3 (port 8602)" in c and "listed on every replica" in c for c in captions)


def test_each_model_opens_with_its_own_batch_size():
    at = open_page()
    assert at.select_slider(key="train_batch").value == 256  # the VAE's on this page (its quick start)
    at.selectbox(key="train_kind").set_value("dcgan").run()
    assert at.select_slider(key="train_batch").value == 32  # a minute of DCGAN training learns most at batch 32
    at.select_slider(key="train_batch").set_value(64).run()
    assert at.select_slider(key="train_batch").value == 64  # a choice holds while the model stays
    at.selectbox(key="train_kind").set_value("vae").run()
    assert at.select_slider(key="train_batch").value == 256


def test_a_new_vae_starts_as_the_quick_mlp_and_its_command_says_so():
    at = open_page()
    assert at.selectbox(key="train_cfg_vae_architecture").value == "mlp"
    assert at.number_input(key="train_cfg_vae_hidden").value == 400
    assert at.selectbox(key="train_cfg_vae_architecture").help and at.number_input(key="train_cfg_vae_hidden").help
    assert at.selectbox(key="train_lr").options[0] == "the model's default (0.002)"
    start_run(at, minutes=0.05)
    [job] = job_manager().jobs()
    assert job.spec.config["architecture"] == "mlp" and job.spec.config["hidden"] == 400
    assert job.spec.lr == 2e-3 and job.spec.batch_size == 256


def test_a_started_run_shows_progress_and_a_second_session_sees_the_same_job():
    first = open_page(teacher=True)  # the teacher's demonstration; the class watches it
    start_run(first, minutes=0.3)
    rerun_until(first, lambda at: any("step" in t and "step 0 " not in t for t in progress_texts(at)))
    [job] = job_manager().jobs()
    assert first.selectbox(key="train_job_pick").value == job.id
    assert first.query_params["job"] == str(job.id)  # a reload of this URL comes back to the same run

    second = open_page()  # a student's browser: no session state, finds the running job through the manager
    assert second.selectbox(key="train_job_pick").value == job.id
    assert "train_stop" not in [button.key for button in second.button]  # the teacher's run: no Stop for students
    assert progress_texts(second) and len(job_manager().jobs()) == 1
    assert [chart.key for chart in second.get("plotly_chart")] == ["train_latent"]  # the 2-D code space
    assert len(second.image) >= 2  # the loss chart (a picture: loss, recon, KL) and the sample grid
    assert any(caption.startswith("Samples at step") for image in second.image for caption in image.captions)

    rerun_until(second, lambda at: at.success)
    assert "it belongs to the teacher" in second.success[0].value
    assert "every page's model list shows it now" in first.run().success[0].value
    if (Path(APP).parent / "views" / "1_VAE_explorer.py").exists():
        assert [link.proto.label for link in second.get("page_link")][-1] == "Open the VAE explorer page"
    assert [c.path for c in list_checkpoints(kind="vae", dataset="toy-page")] == [job.checkpoint_path]
    first.run()
    assert first.success and len(job_manager().jobs()) == 1  # watching never started another run


def test_stop_saves_the_run_and_continue_training_resumes_it():
    at = open_page()
    start_run(at, minutes=10)
    rerun_until(at, lambda at: any("step 0 " not in t for t in progress_texts(at)))
    at.button(key="train_stop").click().run()
    rerun_until(at, lambda at: at.success)
    [stopped] = job_manager().jobs()
    assert stopped.view().stopped_by_user and "was stopped" in at.success[0].value

    at.radio(key="train_mode").set_value("a checkpoint").run()
    picker = at.selectbox(key="train_resume_pick")  # shipped checkpoints and yours
    picker.set_value(next(i for i, option in enumerate(picker.options) if stopped.title in option)).run()
    at.radio(key="train_preset").set_value("Custom").run()
    at.number_input(key="train_minutes").set_value(0.1)
    at.button(key="train_resume").click().run()
    assert not at.error
    resumed = job_manager().jobs()[0]
    assert resumed.id != stopped.id and resumed.spec.resume_from == str(stopped.checkpoint_path)
    assert resumed.finished.wait(120)
    view = resumed.view()
    assert view.state == "done" and view.start_step == stopped.view().step and view.step > view.start_step

    reloaded = AppTest.from_file(APP, default_timeout=120)  # a reload of a URL that names the first run
    reloaded.switch_page("views/4_Train.py")
    reloaded.query_params["job"] = str(stopped.id)
    reloaded.run()
    assert reloaded.selectbox(key="train_job_pick").value == stopped.id


def test_a_malicious_upload_gets_one_sentence_and_never_runs(tmp_path):
    marker = tmp_path / "marker"

    class WritesAMarker:
        def __reduce__(self):
            return exec, (f"open({str(marker)!r}, 'w').write('pwned')",)

    at = open_page()
    at.radio(key="train_mode").set_value("a checkpoint").run()
    at.file_uploader(key="train_resume_upload").upload("evil.safetensors", pickle.dumps(WritesAMarker()))
    at.run()
    assert not at.exception and "not a safetensors checkpoint" in at.error[0].value
    assert not marker.exists() and job_manager().jobs() == []


def test_an_uploaded_zip_becomes_the_chosen_dataset():
    buffer = io.BytesIO()
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(12):
            picture = io.BytesIO()
            Image.fromarray(rng.integers(0, 256, (30, 30), dtype=np.uint8)).save(picture, format="PNG")
            archive.writestr(f"mine/{i}.png", picture.getvalue())
        archive.writestr("mine/readme.txt", "hello")
    at = open_page()
    at.file_uploader(key="train_zip").upload("mine.zip", buffer.getvalue(), "application/zip")
    at.run()
    assert not at.exception and not at.error
    assert "Loaded 12 images; skipped 1 file" in at.success[0].value
    name = at.selectbox(key="train_dataset").value
    assert name.startswith("upload-") and DATASETS[name].image_shape == (1, 28, 28)
    unregister_dataset(name)


def test_a_bad_zip_gets_one_sentence():
    at = open_page()
    at.file_uploader(key="train_zip").upload("bad.zip", b"not a zip", "application/zip")
    at.run()
    assert not at.exception and "not a zip archive" in at.error[0].value


def test_the_aae_offers_its_prior_and_classes_with_a_sentence_each():
    at = open_page()
    at.selectbox(key="train_kind").set_value("aae").run()
    assert not at.exception
    prior = at.selectbox(key="train_cfg_aae_prior")
    assert prior.value == "mixture" and set(prior.options) == {"gaussian", "mixture", "ring", "swiss-roll"}
    classes = at.number_input(key="train_cfg_aae_num_classes")
    assert classes.value == 10 and prior.help and classes.help


def test_a_translator_picks_its_domains_by_name_and_shows_translations_and_round_trips():
    at = open_page(teacher=True)
    at.selectbox(key="train_kind").set_value("cyclegan").run()
    assert not at.exception and at.selectbox(key="train_dataset").value == "shapes"  # domains made for it, first
    at.selectbox(key="train_dataset").set_value("toy-page").run()
    source, target = (at.selectbox(key=f"train_cfg_cyclegan_{name}_toy-page") for name in ("source", "target"))
    assert source.options == ["a", "b"] and (source.value, target.value) == (0, 1) and source.help and target.help
    target.set_value(0).run()
    at.radio(key="train_preset").set_value("Custom").run()
    at.number_input(key="train_minutes").set_value(0.1)
    at.button(key="train_start").click().run()
    assert not at.exception and "two different domains" in at.error[0].value and not job_manager().jobs()

    at.selectbox(key="train_cfg_cyclegan_target_toy-page").set_value(1).run()
    at.button(key="train_start").click().run()
    assert not at.exception and not at.error
    [job] = job_manager().jobs()
    assert job.spec.kind == "cyclegan" and "source" not in job.spec.config and "target" not in job.spec.config, job.spec
    assert job.spec.minutes == 0.1, job.spec
    rerun_until(at, lambda at: at.success)
    captions = [caption for image in at.image for caption in image.captions]
    assert any(caption.startswith("Step") and "round trip" in caption for caption in captions), captions

    at.selectbox(key="train_kind").set_value("stargan").run()  # as many domains as the data set has, at least
    domains = at.number_input(key="train_cfg_stargan_num_domains_shapes")
    assert not at.exception and domains.value == 3 and domains.min == 3 and domains.help
