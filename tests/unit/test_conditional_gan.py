"""The conditional GAN: G draws the class it is asked for, D's projection term reads the label, and a wrong label
count is one sentence."""
import pytest
import torch

from genlab.models.conditional_gan import ConditionalGAN, ConditionalGANConfig


def two_classes(n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """Class 0: a dark image with a bright top half; class 1: a bright bottom half. (n, 1, 28, 28), (n,)."""
    y = torch.arange(n) % 2
    x = torch.full((n, 1, 28, 28), 0.05)
    x[y == 0, :, :14] = 0.95
    x[y == 1, :, 14:] = 0.95
    return x, y


def test_conditional_samples_follow_the_label_after_overfitting_two_classes():
    torch.manual_seed(0)
    model = ConditionalGAN(ConditionalGANConfig.tiny(num_classes=2, width=8))
    optimizers = model.make_optimizers(2e-3)
    x, y = two_classes()
    for _ in range(300):
        model.train_step(x, y, optimizers)
    model.eval()
    top, bottom = model.sample(50, 1, label=0), model.sample(50, 1, label=1)  # (50, 1, 28, 28) each
    assert top[:, :, :14].mean() > top[:, :, 14:].mean() + 0.3  # asked for class 0: bright on top
    assert bottom[:, :, 14:].mean() > bottom[:, :, :14].mean() + 0.3  # class 1: bright below


def test_the_same_z_with_another_label_gives_another_image_and_labels_default_to_classes_in_turn():
    model = ConditionalGAN(ConditionalGANConfig.tiny(num_classes=3)).eval()
    z = model.random_latents(4, 0)
    assert not torch.equal(model.decode(z, 0), model.decode(z, 2))
    assert torch.equal(model.decode(z), model.decode(z, torch.tensor([0, 1, 2, 0])))
    assert torch.equal(model.sample(4, 5), model.sample(4, 5))  # seeded


def test_the_discriminator_reads_the_label_through_its_projection():
    torch.manual_seed(0)
    model = ConditionalGAN(ConditionalGANConfig.tiny(num_classes=2)).eval()
    with torch.no_grad():
        model.discriminator.embed.weight[1] += 1.0
    images = torch.rand(3, 1, 28, 28) * 2 - 1
    assert not torch.allclose(model.discriminate(images, torch.zeros(3, dtype=torch.long)),
                              model.discriminate(images, torch.ones(3, dtype=torch.long)))


def test_labels_beyond_the_classes_are_one_sentence():
    model = ConditionalGAN(ConditionalGANConfig.tiny(num_classes=2))
    x, y = two_classes(4)
    with pytest.raises(ValueError, match="number of classes to 6"):
        model.train_step(x, y + 4, model.make_optimizers())
    with pytest.raises(ValueError, match="between 0 and 1"):
        model.sample(2, 0, label=5)
    with pytest.raises(ValueError, match="num_classes"):
        ConditionalGANConfig(num_classes=1)
