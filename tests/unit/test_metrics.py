import torch

from genlab.evaluation.metrics import (class_coverage, extract_features, fid_from_features, kid_from_features,
                                       nearest_training_images, precision_recall)
from genlab.models.classifier import Classifier, ClassifierConfig
from genlab.models.vae import VAE, VAEConfig


def gaussian_features(n=600, dim=16, seed=0, shift=0.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, dim, generator=g) + shift


def test_fid_of_a_set_against_itself_is_about_zero():
    features = gaussian_features()
    assert fid_from_features(features, features) < 1e-6


def test_fid_and_kid_rise_as_noise_is_added():
    real = gaussian_features(seed=0)
    base = gaussian_features(seed=1)
    fids, kids = [], []
    for noise in (0.0, 0.5, 1.0, 2.0):
        fake = base + noise * gaussian_features(seed=2)
        fids.append(fid_from_features(real, fake))
        kids.append(kid_from_features(real, fake, subsets=10, subset_size=300)[0])
    assert fids == sorted(fids) and fids[-1] > 10 * (fids[0] + 1e-3)
    assert kids == sorted(kids)


def test_precision_recall_identical_sets_and_disjoint_clusters():
    features = gaussian_features(300)
    assert precision_recall(features, features) == (1.0, 1.0)
    assert precision_recall(features, gaussian_features(300, seed=1, shift=100.0)) == (0.0, 0.0)


def test_precision_high_recall_low_for_a_collapsed_generator():
    real = gaussian_features(500, dim=4)
    collapsed = real[:10].repeat(50, 1) + 0.001 * gaussian_features(500, dim=4, seed=3)  # ten modes only
    precision, recall = precision_recall(real, collapsed)
    assert precision > 0.9 and recall < 0.3


def test_class_coverage_of_one_class_has_zero_entropy_and_uniform_is_log2_k():
    counts, entropy = class_coverage(torch.full((50,), 3), 10)
    assert counts[3] == 50 and entropy == 0.0
    _, uniform = class_coverage(torch.arange(100) % 10, 10)
    assert abs(uniform - torch.log2(torch.tensor(10.0)).item()) < 1e-6


def test_nearest_training_image_finds_a_copy():
    train = torch.rand(50, 1, 28, 28)
    samples = torch.stack([train[17], torch.rand(1, 28, 28)])
    index, distance = nearest_training_images(samples, train, chunk=16)
    assert index[0] == 17 and distance[0] < 1e-3 and distance[1] > 0.1


def test_features_come_from_the_classifier_penultimate_layer():
    model = Classifier(ClassifierConfig.tiny())
    features = extract_features(model, torch.rand(7, 1, 28, 28), batch_size=3)
    assert features.shape == (7, 8)


def test_iwae_bound_is_above_the_elbo_and_tightens_with_k():
    torch.manual_seed(0)
    model = VAE(VAEConfig.tiny(latent_dim=4, width=8, hidden=32))
    x = (torch.rand(64, 1, 28, 28) > 0.5).float()
    optimizers = model.make_optimizers(3e-3)
    for _ in range(40):  # a trained encoder: q(z|x) differs from the prior, so the bounds differ clearly
        model.train_step(x, None, optimizers)
    model.eval()
    bounds = {}
    for k in (1, 10, 100):
        g = torch.Generator().manual_seed(1)
        bounds[k] = model.importance_weighted_bound(x, k, g).mean().item()
    recon, kl = model.elbo_terms(x, torch.Generator().manual_seed(2))
    elbo = -(recon + kl).mean().item()
    assert abs(bounds[1] - elbo) < 0.05 * abs(elbo)  # k = 1 is the ELBO (up to the noise of one sample)
    assert bounds[1] <= bounds[10] <= bounds[100]
