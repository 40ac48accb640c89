"""Class agreement of samples and completions: what the classifier is shown, and what the rates mean."""
import torch

from genlab.data import ImageDataset
from genlab.evaluation.class_agreement import completion_agreement, conditional_sample_accuracy, predict
from genlab.models.autoregressive.pixelcnn import PixelCNN, PixelCNNConfig


class TopHalfClassifier(torch.nn.Module):
    """Class 1 when the image has any ink in its bottom half, else class 0: a classifier we can reason about."""

    def __init__(self):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x):
        ink = (x[:, 0, x.shape[2] // 2:] > 0.5).flatten(1).any(1).float()  # (N,)
        return torch.stack([1 - ink, ink], 1)  # (N, 2) logits


def test_the_floor_is_the_bare_top_half_and_the_ceiling_the_original():
    images = torch.ones(6, 1, 8, 8)  # ink everywhere: class 1
    test = ImageDataset("t", "test", images, torch.ones(6, dtype=torch.long), ["empty", "ink"], "made here")
    model = PixelCNN(PixelCNNConfig.tiny(output="bernoulli")).eval()
    result = completion_agreement(model, TopHalfClassifier(), test, n=6, batch=4)
    assert result.images == 6
    assert result.original == 1.0  # the originals have ink below the middle
    assert result.bare == 0.0  # the bottom half was hidden: black
    assert 0.0 <= result.completed <= 1.0


def test_conditional_samples_are_asked_for_each_class_in_turn():
    torch.manual_seed(0)
    model = PixelCNN(PixelCNNConfig.tiny(output="bernoulli", num_classes=2)).eval()
    result = conditional_sample_accuracy(model, TopHalfClassifier(), n=8, batch=3)
    assert result.samples == 8 and len(result.per_class) == 2
    assert abs(result.accuracy - sum(result.per_class) / 2) < 1e-6  # the classes were asked for equally often


def test_predict_batches_give_the_same_classes():
    x = (torch.rand(10, 1, 8, 8) > 0.5).float()
    assert torch.equal(predict(TopHalfClassifier(), x, batch_size=3), predict(TopHalfClassifier(), x))


def test_the_independent_pixel_baseline_is_the_entropy_of_each_pixel():
    from genlab.evaluation.likelihood_baselines import independent_pixels_nll

    half = torch.zeros(4, 1, 2, 2)
    half[:2] = 1.0  # every pixel white in half the images
    data = ImageDataset("t", "train", half, torch.zeros(4, dtype=torch.long), ["a"], "made here")
    # p = (2 + 1) / (4 + 2) = 1/2 for every pixel: log 2 nats each, 4 pixels
    assert abs(independent_pixels_nll(data, data) - 4 * torch.log(torch.tensor(2.0)).item()) < 1e-5
