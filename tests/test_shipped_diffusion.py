"""The shipped diffusion and flow models still meet their bars (a few hundred samples each; the closing note, the
README and benchmarks/diffusion_quality.py give the full-size figures): samples at the page's default steps and
guidance beat the VAE's on FID with the same N, and a class-conditional model draws the class asked for."""
from pathlib import Path

import pytest
import torch

from genlab import checkpoints
from genlab.checkpoints import list_checkpoints
from genlab.data import dataset_available
from genlab.evaluation.class_agreement import predict
from genlab.evaluation.compare import load_reference
from genlab.evaluation.metrics import extract_features, fid_from_features
from genlab.models import ITERATIVE, kind_names_with
from genlab.models.loading import load_checkpoint

SHIPPED = list_checkpoints(kinds=kind_names_with(ITERATIVE), folders=[(checkpoints.SHIPPED_DIR, "shipped")])
BASELINE = {"fashion-mnist": "vae-16d.safetensors", "digits": "vae-2d.safetensors"}  # the VAE each one must beat
N = 300
CLASS_BAR = 0.85  # share of class-conditional samples the classifier puts in the class asked for


@pytest.mark.slow
@pytest.mark.parametrize("info", SHIPPED, ids=[f"{i.dataset}/{i.path.name}" for i in SHIPPED])
def test_samples_beat_the_vae_and_show_the_class_asked_for(info):
    if not dataset_available(info.dataset):
        pytest.skip(f"{info.dataset} is not on this machine")
    reference = load_reference(info.dataset)
    model = load_checkpoint(info.path).model
    samples = model.sample(N, 0)  # default steps and guidance; classes 0, 1, 2, ... in turn
    vae = load_checkpoint(Path(checkpoints.SHIPPED_DIR) / info.dataset / BASELINE[info.dataset]).model
    fid = lambda images: fid_from_features(reference.test_features, extract_features(reference.classifier, images))  # noqa: E731
    ours, theirs = fid(samples), fid(vae.sample(N, 0))
    assert ours < theirs, (ours, theirs)
    if model.conditional:
        asked = torch.arange(N) % model.config.num_classes
        accuracy = (predict(reference.classifier, samples) == asked).float().mean().item()
        assert accuracy >= CLASS_BAR, accuracy
