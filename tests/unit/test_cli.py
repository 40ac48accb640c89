"""Smoke tests of `python -m genlab`, run as a user would, in a subprocess."""
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from genlab.checkpoints import read_card
from genlab.data import dataset_available

ROOT = Path(__file__).resolve().parents[2]


def genlab(*args):
    return subprocess.run([sys.executable, "-m", "genlab", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_train_eval_sample_round_trip(tmp_path):
    out = tmp_path / "tiny.safetensors"
    run = genlab("train", "vae", "--dataset", "shapes", "--steps", "3", "--batch-size", "16", "--latent-dim", "2",
                 "--width", "4", "--hidden", "16", "--out", str(out))
    assert run.returncode == 0, run.stderr
    card = read_card(out)
    assert card["steps"] == 3 and card["dataset"] == "shapes" and card["config"]["width"] == 4
    assert card["command"].startswith("python -m genlab train vae --dataset shapes")
    assert "nats per image" in run.stdout

    evaluation = genlab("eval", str(out))
    assert evaluation.returncode == 0, evaluation.stderr
    assert "test negative ELBO on shapes" in evaluation.stdout and "bits per dimension" in evaluation.stdout

    png = tmp_path / "grid.png"
    sampled = genlab("sample", str(out), "--n", "9", "--out", str(png))
    assert sampled.returncode == 0, sampled.stderr
    assert Image.open(png).size[0] > 28 * 3

    resumed = genlab("train", "vae", "--dataset", "shapes", "--steps", "2", "--batch-size", "16",
                     "--resume", str(out), "--out", str(out))
    assert resumed.returncode == 0, resumed.stderr
    assert read_card(out)["steps"] == 5


def test_resuming_with_a_new_learning_rate_uses_it_and_the_card_says_so(tmp_path):
    out = tmp_path / "tiny.safetensors"
    first = genlab("train", "vae", "--dataset", "shapes", "--steps", "2", "--batch-size", "16", "--latent-dim", "2",
                   "--width", "4", "--hidden", "16", "--lr", "0.01", "--out", str(out))
    assert first.returncode == 0, first.stderr
    assert read_card(out)["lr"] == 0.01 and read_card(out)["optimizers"]["model"]["param_groups"][0]["lr"] == 0.01

    resumed = genlab("train", "vae", "--dataset", "shapes", "--steps", "2", "--batch-size", "16", "--lr", "0.0003",
                     "--resume", str(out), "--out", str(out))
    assert resumed.returncode == 0, resumed.stderr
    card = read_card(out)
    assert card["steps"] == 4
    assert card["lr"] == 0.0003  # the rate asked for now, not the checkpoint's 0.01
    assert card["optimizers"]["model"]["param_groups"][0]["lr"] == 0.0003  # and the optimiser really used it
    assert "--lr 0.0003" in card["command"] and "--resume" in card["command"]


def test_resuming_may_add_weights_that_start_without_effect_but_not_reshape_old_ones(tmp_path):
    out, grown = tmp_path / "tiny.safetensors", tmp_path / "grown.safetensors"
    small = ["--dataset", "shapes", "--batch-size", "8", "--channels", "4", "--layers", "1", "--head-channels", "4"]
    first = genlab("train", "pixelcnn", *small, "--num-classes", "3", "--steps", "2", "--out", str(out))
    assert first.returncode == 0, first.stderr

    resumed = genlab("train", "pixelcnn", *small, "--steps", "1", "--class-maps", "2", "--resume", str(out),
                     "--out", str(grown))
    assert resumed.returncode == 0, resumed.stderr
    assert "start without effect" in resumed.stdout and "optimiser starts afresh" in resumed.stdout
    card = read_card(grown)
    assert card["config"]["class_maps"] == 2 and card["steps"] == 3 and "--class-maps 2" in card["command"]

    reshaped = genlab("train", "pixelcnn", *small[:4], "--channels", "8", "--steps", "1", "--resume", str(out),
                      "--out", str(tmp_path / "no.safetensors"))
    assert reshaped.returncode == 2 and "cannot change when resuming" in reshaped.stderr
    assert "Traceback" not in reshaped.stderr


def test_bad_input_gets_one_line_not_a_traceback(tmp_path):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a checkpoint at all")
    run = genlab("eval", str(junk))
    assert run.returncode == 2
    assert run.stderr.startswith("error:") and "Traceback" not in run.stderr

    unknown = genlab("train", "vae", "--dataset", "shapes", "--no-such-flag", "1", "--out", str(tmp_path / "x"))
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr


@pytest.mark.skipif(not dataset_available("digits"), reason="the MNIST test file is not here")
def test_eval_agreement_prints_samples_completions_and_guidance():
    shipped = ROOT / "checkpoints" / "digits" / "pixelcnn.safetensors"
    out = genlab("eval", str(shipped), "--agreement", "10", "--completions", "3", "--guidance", "1").stdout
    assert "class-conditional samples from the model's own p(x | y)" in out
    assert "with classifier-free guidance w = 1:" in out and "of 10 (chance 10%)" in out
    assert "completing the bottom half of the first 3 test images" in out
    assert "most likely from the top half (Bayes' rule on its own likelihoods): " in out
    assert "with classifier-free guidance w = 1 towards it" in out
