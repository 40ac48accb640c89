"""The shipped autoencoders still teach their lesson (a few hundred samples each; the README gives the full-size
figures and `benchmarks/autoencoder_quality.py` prints them): the plain autoencoder's decodes of N(0, I) codes
are clearly worse than the VAE's of the same size, the AAE's codes match its prior far better than the VAE's, and
the beta-VAE of shapes gives each known factor a dimension of its own."""
from pathlib import Path

import pytest
import torch

from genlab import checkpoints
from genlab.data import dataset_available, load_dataset
from genlab.evaluation.code_match import codes_against_prior
from genlab.evaluation.compare import load_reference
from genlab.evaluation.disentanglement import factors_of_model
from genlab.evaluation.metrics import extract_features, fid_from_features
from genlab.models.base import evaluate_model
from genlab.models.loading import load_checkpoint

SHIPPED = Path(checkpoints.SHIPPED_DIR)
N = 500


def _paths(*names):
    return [SHIPPED / name for name in names]


@pytest.mark.parametrize("dataset", ["digits", "fashion-mnist"])
def test_the_autoencoder_decodes_random_codes_worse_than_the_vae_of_its_size(dataset):
    ae, vae = _paths(f"{dataset}/autoencoder-2d.safetensors", f"{dataset}/vae-2d.safetensors")
    if not (ae.exists() and vae.exists() and dataset_available(dataset)):
        pytest.skip(f"the {dataset} autoencoder, VAE or test images are not here")
    reference = load_reference(dataset)
    fid = lambda path: fid_from_features(  # noqa: E731  (both decode the same N codes z ~ N(0, I), seed 0)
        reference.test_features, extract_features(reference.classifier, load_checkpoint(path).model.sample(N, 0)))
    assert fid(ae) > 1.2 * fid(vae)


def test_the_aae_codes_match_its_prior_far_better_than_the_vae_codes_do():
    aae, vae = _paths("digits/aae-mixture.safetensors", "digits/vae-2d.safetensors")
    if not (aae.exists() and vae.exists() and dataset_available("digits")):
        pytest.skip("the digits AAE, VAE or test images are not here")
    test = load_reference("digits").test
    aae_model, vae_model = load_checkpoint(aae).model.float(), load_checkpoint(vae).model.float()
    ours = codes_against_prior(aae_model, test, n=1000)
    theirs = codes_against_prior(vae_model, test, n=1000, prior_of=aae_model)  # the same prior samples
    assert ours.mmd2 < theirs.mmd2 / 3, (ours, theirs)  # measured: 0.026 against 0.245


def test_the_mixture_aae_puts_each_class_into_its_own_part_of_the_prior():
    path = SHIPPED / "digits" / "aae-mixture.safetensors"
    if not (path.exists() and dataset_available("digits")):
        pytest.skip("the digits mixture AAE or test images are not here")
    test = load_reference("digits").test
    model = load_checkpoint(path).model.float()
    with torch.no_grad():
        codes, _ = model.encode(test.images)  # (N, 2)
    parts = model.prior_sample(10_000, torch.Generator().manual_seed(0), part=torch.arange(10).repeat(1000))[0]
    centres = parts.view(1000, 10, 2).mean(0)  # (10, 2) the mean of each part of the prior
    nearest = torch.cdist(codes, centres).argmin(1)  # (N,)
    assert (nearest == test.labels).float().mean() > 0.8  # the class's own part, for most test digits


def test_the_shipped_beta_vae_of_shapes_finds_every_factor():
    """A dimension per factor predicts it on its own (R^2 >= 0.7; the shape right >= 90% of the time), MIG >= 0.25,
    on the 2,000 test shapes."""
    path = SHIPPED / "shapes" / "beta-vae-10d.safetensors"
    if not path.exists():
        pytest.skip("the shapes beta-VAE is not here")
    fm = factors_of_model(load_checkpoint(path).model.float().eval(), load_dataset("shapes", "test"))
    fits = {name: fm.one_dimension_fit[k].max().item() for k, name in enumerate(fm.factor_names)}
    assert fits["shape"] >= 0.9 and all(fits[name] >= 0.7 for name in ("scale", "rotation", "x", "y")), fits
    assert len({fm.best_dimension(k) for k in range(len(fm.factor_names))}) == 5  # five different dimensions
    assert fm.mig >= 0.25, fm.mig


def test_the_shipped_16d_fashion_vae_keeps_its_bound():
    """Its test -ELBO on all 10,000 Fashion-MNIST test images (one sample each, seed 0): 234.34 nats measured
    (`python -m genlab eval checkpoints/fashion-mnist/vae-16d.safetensors`); the course's bar is 235."""
    path = SHIPPED / "fashion-mnist" / "vae-16d.safetensors"
    if not (path.exists() and dataset_available("fashion-mnist")):
        pytest.skip("the 16-D Fashion-MNIST VAE or its test images are not here")
    metrics = evaluate_model(load_checkpoint(path).model, load_dataset("fashion-mnist", "test"))
    assert metrics["neg_elbo"] <= 235.0, metrics
