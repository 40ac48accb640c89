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
    (guidance: the classifier-free guidance weight of the sampler, 0 for the model's own p(x | y))."""
    classes = model.config.num_classes
    if not classes:
        raise ValueError("this model is not class-conditional: it cannot be asked for a class")
    asked = torch.arange(n) % classes  # (n,)
    generator = torch.Generator().manual_seed(seed)  # one stream for all batches: another seed, other samples
    predicted = []
    for start in range(0, n, batch):
        labels = asked[start:start + batch]
        images = fast_sample(model, len(labels), label=labels, generator=generator, temperature=temperature,
                             guidance=guidance)
        predicted.append(predict(classifier, images.images.float().cpu()))
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
