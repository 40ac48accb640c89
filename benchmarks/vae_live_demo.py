"""Does the Train page's VAE learn fast enough for a live demo? At equal training wall time, the VAE the Train page
starts (`genlab.training.run` with the kind's `starts_with`: the paper's one-hidden-layer MLP, 784-400-16, Adam
2e-3, batch 256) and the CLI's default (the shipped VAEs' convolutions) against the pytorch/examples VAE (its
784-400-20 MLP, Adam 1e-3, batch 128, rebuilt here), all on Fashion-MNIST, in the same run: the test -ELBO (nats
per image, one sample per image, seed 0, all 10,000 test images, the same Bernoulli on grey levels). The example
runs twice: as written (its DataLoader turns each stored image into a PIL image and then a tensor,
on the main process, as on a CPU) and with its model fed from a tensor in memory, which spends the same time on
about five times as many steps.

    .venv/bin/python benchmarks/vae_live_demo.py                  # 20 s and 60 s, 2 threads
    .venv/bin/python benchmarks/vae_live_demo.py --seconds 20 --threads 2
    .venv/bin/python benchmarks/vae_live_demo.py --seconds 20 --recipe   # what each change of the recipe gives

Run it alone on the machine: both models share the CPU's time budget, so other work changes both figures.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torchvision import transforms

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from genlab.data import load_dataset  # noqa: E402
from genlab.models import get_kind  # noqa: E402
from genlab.models.base import evaluate_model  # noqa: E402
from genlab.training.run import RunSpec, TrainingRun  # noqa: E402


class ExamplesVAE(nn.Module):
    """pytorch/examples' vae/main.py model: 784-400-20 MLP encoder and decoder."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc21, self.fc22 = nn.Linear(784, 400), nn.Linear(400, 20), nn.Linear(400, 20)
        self.fc3, self.fc4 = nn.Linear(20, 400), nn.Linear(400, 784)

    def neg_elbo(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Per-image -ELBO (N,) in nats: Bernoulli reconstruction (summed BCE) + KL, one sample."""
        flat = x.view(len(x), 784)  # (N, 784)
        h = F.relu(self.fc1(flat))
        mu, logvar = self.fc21(h), self.fc22(h)  # (N, 20) each
        z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=generator)
        logits = self.fc4(F.relu(self.fc3(z)))  # (N, 784)
        recon = F.binary_cross_entropy_with_logits(logits, flat, reduction="none").sum(1)
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
        return recon + kl


class AsWritten(torch.utils.data.Dataset):
    """The example's input pipeline: each item a PIL image turned into a tensor by transforms.ToTensor(), as
    `datasets.FashionMNIST(..., transform=transforms.ToTensor())` gives it (read here from the local files)."""

    def __init__(self, images: torch.Tensor):
        self.pixels = (images[:, 0] * 255).round().to(torch.uint8).numpy()  # (N, 28, 28) the stored bytes
        self.to_tensor = transforms.ToTensor()

    def __len__(self) -> int:
        return len(self.pixels)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.to_tensor(Image.fromarray(self.pixels[i], mode="L"))  # (1, 28, 28) in [0, 1]


def batches(train: torch.Tensor, as_written: bool):
    """One epoch of shuffled batches of 128: the example's DataLoader (as written), or slices of a tensor."""
    if as_written:  # on a CPU the example passes no workers: the main process decodes every image
        return torch.utils.data.DataLoader(AsWritten(train), batch_size=128, shuffle=True)
    return train[torch.randperm(len(train))].split(128)


def train_examples(train: torch.Tensor, seconds: float, as_written: bool) -> tuple[ExamplesVAE, int]:
    torch.manual_seed(0)
    model = ExamplesVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for batch in batches(train, as_written):
            loss = model.neg_elbo(batch).sum()  # as the example: the sum over the batch
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            steps += 1
            if time.perf_counter() - start >= seconds:
                break
    return model, steps


@torch.inference_mode()
def examples_test_nats(model: ExamplesVAE, test: torch.Tensor) -> float:
    g = torch.Generator().manual_seed(0)
    return torch.cat([model.neg_elbo(x, g) for x in test.split(500)]).mean().item()


def train_genlab(seconds: float, folder: Path, config: dict, batch_size: int, lr: float | None
                 ) -> tuple[float, int]:
    """A genlab VAE trained by `genlab.training.run` (the Train page's recipe) for `seconds`; the test -ELBO as
    `evaluate_model` reports it (one sample per image, seed 0)."""
    spec = RunSpec(kind="vae", dataset="fashion-mnist", config=config, epochs=None, minutes=seconds / 60,
                   batch_size=batch_size, lr=lr)
    torch.manual_seed(0)
    run = TrainingRun(spec, folder / f"vae-{seconds:g}s.safetensors", torch.device("cpu"), command="benchmark")
    run.prepare()
    run.train()
    card = run.finish()
    return evaluate_model(run.model, load_dataset("fashion-mnist", "test"))["neg_elbo"], card["steps"]


def genlab_rows(recipe: bool) -> list[tuple[str, dict, int, float | None]]:
    """(words, config, batch size, learning rate): the Train page's VAE and the CLI's default; with recipe, the
    page's VAE built up one change at a time from the paper's MLP with the example's settings."""
    kind = get_kind("vae")
    starts = kind.starts_with
    page = {k: v for k, v in starts.items() if k not in ("lr", "batch_size")}
    rows = [("the Train page's VAE", page, starts["batch_size"], starts["lr"]),
            ("the CLI's default (conv) VAE", {}, kind.default_batch_size, None)]
    if recipe:
        rows += [("the page's MLP with the example's settings (Adam 1e-3, batch 128)", page, 128, 1e-3),
                 (f"... + Adam {starts['lr']:g}", page, 128, starts["lr"]),
                 (f"... + batch {starts['batch_size']} (the Train page's VAE)", page, starts["batch_size"],
                  starts["lr"])]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, nargs="+", default=[20, 60])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--recipe", action="store_true",
                        help="also the Train page's VAE built up one change at a time, to see what each gives")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    train, test = load_dataset("fashion-mnist", "train").images, load_dataset("fashion-mnist", "test").images
    print(f"Fashion-MNIST, {len(train):,} training and {len(test):,} test images; {args.threads} CPU threads\n")
    print("| training wall time | model | steps | test -ELBO (nats) |")
    print("| --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for seconds in args.seconds:
            for as_written, words in ((True, "as written: its DataLoader of PIL images"),
                                      (False, "its model fed from a tensor in memory")):
                examples, steps = train_examples(train, seconds, as_written)
                print(f"| {seconds:g} s | pytorch/examples VAE (MLP 784-400-20), {words} | {steps:,} | "
                      f"{examples_test_nats(examples, test):.2f} |", flush=True)
            for words, config, batch_size, lr in genlab_rows(args.recipe):
                nats, steps = train_genlab(seconds, Path(tmp), config, batch_size, lr)
                print(f"| {seconds:g} s | genlab: {words} | {steps:,} | {nats:.2f} |", flush=True)


if __name__ == "__main__":
    main()
