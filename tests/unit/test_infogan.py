"""InfoGAN: the latent vector's layout, Q reading back the categorical code it was trained on, and the Hungarian
matching of code values to classes."""
import torch

from genlab.evaluation.class_agreement import code_class_agreement
from genlab.models.infogan import InfoGAN, InfoGANConfig


def test_latents_are_noise_then_a_one_hot_then_uniform_codes():
    model = InfoGAN(InfoGANConfig.tiny(categories=3, continuous=2))
    latents = model.random_latents(500, 0)  # (500, 8 + 3 + 2)
    assert latents.shape == (500, model.latent_dim) == (500, 13)
    one_hot = latents[:, 8:11]
    assert torch.equal(one_hot.sum(1), torch.ones(500)) and set(one_hot.unique().tolist()) == {0.0, 1.0}
    assert latents[:, 11:].abs().max() <= 1
    changed = model.with_codes(latents[:4], category=2, continuous={1: 0.5})
    category, continuous = model.split_codes(changed)
    assert category.tolist() == [2, 2, 2, 2] and torch.equal(continuous[:, 1], torch.full((4,), 0.5))
    assert torch.equal(changed[:, :8], latents[:4, :8])  # the noise is untouched


def test_q_reads_back_the_categorical_code_after_training_on_a_tiny_set():
    torch.manual_seed(0)
    model = InfoGAN(InfoGANConfig.tiny(categories=2, continuous=1, width=8, q_hidden=16))
    optimizers = model.make_optimizers(2e-3)
    x = torch.full((64, 1, 28, 28), 0.05)  # two kinds of image: bright top half or bright bottom half
    x[::2, :, :14] = 0.95
    x[1::2, :, 14:] = 0.95
    for _ in range(300):
        report = model.train_step(x, torch.zeros(64, dtype=torch.long), optimizers)
    assert report["q_accuracy"] > 0.9 and report["mi_bits"] > 0.8  # log2(2) = 1 bit at most
    model.eval()
    latents = model.random_latents(100, 1)
    for k in range(2):
        probabilities, _ = model.read_codes(model.decode(model.with_codes(latents, category=k)))
        assert (probabilities.argmax(1) == k).float().mean() > 0.9


class ByBrightHalf(torch.nn.Module):
    """A stand-in classifier: class 0 if the top half is brighter, else 1 (logits (N, 2))."""

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(()))  # predict() finds the device from a parameter

    def forward(self, images):
        top, bottom = images[:, :, :14].mean((1, 2, 3)), images[:, :, 14:].mean((1, 2, 3))
        return self.scale * torch.stack([top - bottom, bottom - top], 1)


def test_hungarian_matching_finds_a_code_that_took_the_classes_in_another_order():
    class Swapped(torch.nn.Module):  # code value 0 draws class 1 and value 1 class 0, perfectly
        code_sizes = (1, 2, 0)

        def random_latents(self, n, seed):
            return torch.zeros(n, 3)

        def with_codes(self, latents, category):
            out = latents.clone()
            out[:, 1 + category] = 1
            return out

        def decode(self, latents):
            images = torch.zeros(len(latents), 1, 28, 28)
            images[latents[:, 1] == 1, :, 14:] = 1  # value 0: bottom bright (class 1)
            images[latents[:, 2] == 1, :, :14] = 1  # value 1: top bright (class 0)
            return images

    result = code_class_agreement(Swapped(), ByBrightHalf().eval(), 40)
    assert result.accuracy == 1.0 and result.matching == [1, 0]


def test_a_batch_of_one_image_trains_and_one_image_is_read_in_train_mode():
    model = InfoGAN(InfoGANConfig.tiny()).train()
    report = model.train_step(torch.rand(1, 1, 28, 28), torch.zeros(1, dtype=torch.long), model.make_optimizers())
    assert set(report) >= {"loss_d", "loss_g", "mi_bits"}
    probabilities, continuous = model.read_codes(torch.rand(1, 1, 28, 28))  # batch norm in eval mode inside
    assert probabilities.shape == (1, 3) and continuous.shape == (1, 1) and model.training
