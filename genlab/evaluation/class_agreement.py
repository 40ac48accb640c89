"""Does an independent classifier believe the model? Two checks of an autoregressive or conditional model:

- class-conditional samples: draw n images "of class y" and count how often the dataset's shipped classifier
  says y (chance is 1 / classes);
- completions: hide the bottom half of n test images, let the model draw it, and count how often the classifier
  gives the original image's class. Beside it, two reference rates: the bare top halves (bottom left black;
  the floor a useful completion should beat) and the originals as the model sees them (quantized; the ceiling
  a completion can hope to approach). They are references, not bounds.

Both use the metrics classifier that ships with the dataset (genlab/evaluation/compare.py's `load_reference`).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from genlab.data import ImageDataset
from genlab.models import AUTOREGRESSIVE, kind_of
from genlab.models.autoregressive.sampling import fast_sample, guess_labels, hide_mask


@torch.inference_mode()
def predict(classifier: torch.nn.Module, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """The classifier's class (N,) for images (N, C, H, W) in [0, 1]."""
    device = next(classifier.parameters()).device
    classifier.eval()
    return torch.cat([classifier(chunk.to(device)).argmax(1).cpu() for chunk in images.split(batch_size)])


@dataclass
class ConditionalAccuracy:
    accuracy: float  # share of samples the classifier puts in the class asked for
    per_class: list[float]  # the same per class
    samples: int


def conditional_sample_accuracy(model, classifier: torch.nn.Module, n: int, seed: int = 0, batch: int = 100,
                                temperature: float = 1.0, guidance: float = 0.0) -> ConditionalAccuracy:
    """Draw n samples, the classes asked for in turn (0, 1, ..., 9, 0, ...), and score them with the classifier
    (guidance: the classifier-free guidance weight of an autoregressive sampler, 0 for the model's own p(x | y);
    temperature and guidance apply to pixel-by-pixel samplers only)."""
    classes = model.config.num_classes
    if not classes:
        raise ValueError("this model is not class-conditional: it cannot be asked for a class")
    asked = torch.arange(n) % classes  # (n,)
    generator = torch.Generator().manual_seed(seed)  # one stream for all batches: another seed, other samples
    predicted = []
    for start in range(0, n, batch):
        labels = asked[start:start + batch]
        if kind_of(model).can(AUTOREGRESSIVE):  # pixel by pixel, reusing work between pixels
            images = fast_sample(model, len(labels), label=labels, generator=generator, temperature=temperature,
                                 guidance=guidance).images
        else:  # a sampler that takes a class (a conditional GAN)
            images = model.sample(len(labels), generator, label=labels)
        predicted.append(predict(classifier, images.float().cpu()))
    hit = torch.cat(predicted) == asked  # (n,)
    per_class = [hit[asked == k].float().mean().item() for k in range(classes)]
    return ConditionalAccuracy(hit.float().mean().item(), per_class, n)


@dataclass
class CompletionAgreement:
    completed: float  # the classifier gives the original class to the completed image
    bare: float  # ... to the top half alone, bottom black: the floor to beat
    original: float  # ... to the original image as the model sees it (quantized): the ceiling to approach
    images: int


def completion_agreement(model, classifier: torch.nn.Module, test: ImageDataset, n: int, seed: int = 0,
                         batch: int = 100, region: str = "bottom half", guess_class: bool = False,
                         guidance: float = 0.0, most_likely: bool = False) -> CompletionAgreement:
    """Hide `region` of the first n test images, complete each once (seeded), and compare the classifier's
    class of the completion, of the bare visible part and of the original with the true class.

    guess_class (class-conditional models): complete with a class drawn from the model's own posterior given
    the visible pixels (sampling.guess_labels), instead of the unconditional p(x) it learned beside, or with
    most_likely its most probable class; guidance: the classifier-free guidance weight towards that class."""
    images, labels = test.images[:n].float(), test.labels[:n]
    known = hide_mask(region, model.config.image_size)  # (H, W) bool
    generator = torch.Generator().manual_seed(seed)
    completed = []
    for start in range(0, len(images), batch):
        chunk = images[start:start + batch]
        label = guess_labels(model, chunk, known, generator, most_likely) if guess_class else None
        completed.append(fast_sample(model, partial=chunk, known=known, generator=generator,
                                     label=label, guidance=guidance).images.float().cpu())
    bare = model.quantize(images) * known  # what the model was given, the rest black
    rate = lambda x: (predict(classifier, x) == labels).float().mean().item()  # noqa: E731
    return CompletionAgreement(rate(torch.cat(completed)), rate(bare), rate(model.quantize(images)), len(images))


@dataclass
class CodeAgreement:
    accuracy: float  # share of samples whose categorical code, matched to a class, is the classifier's class
    matching: list[int]  # matching[k]: the class the code value k stands for (best one-to-one matching)
    samples: int


@torch.inference_mode()
def code_class_agreement(model, classifier: torch.nn.Module, n: int, seed: int = 0, batch: int = 500
                         ) -> CodeAgreement:
    """Does an unsupervised categorical code (InfoGAN's c_1) take the classes? Draw n samples with the code's
    values in turn, classify them, and match code values to classes one to one so that most samples agree
    (the Hungarian algorithm on the confusion counts, scipy's linear_sum_assignment)."""
    from scipy.optimize import linear_sum_assignment

    _, categories, _ = model.code_sizes
    asked = torch.arange(n) % categories  # (n,)
    latents = model.random_latents(n, seed)  # (n, latent)
    for k in range(categories):
        latents[asked == k] = model.with_codes(latents[asked == k], category=k)
    images = torch.cat([model.decode(chunk).float().cpu() for chunk in latents.split(batch)])  # (n, C, H, W)
    predicted = predict(classifier, images)  # (n,)
    classes = int(max(predicted.max().item() + 1, categories))
    counts = torch.zeros(categories, classes, dtype=torch.long)  # counts[code value, class]
    counts.index_put_((asked, predicted), torch.ones(n, dtype=torch.long), accumulate=True)
    rows, columns = linear_sum_assignment(counts.numpy(), maximize=True)
    matching = [-1] * categories
    for row, column in zip(rows, columns):
        matching[row] = int(column)
    return CodeAgreement(counts[rows, columns].sum().item() / n, matching, n)
