"""Command line: python -m genlab train|eval|sample ...

    python -m genlab train vae --dataset fashion-mnist --latent-dim 2 --epochs 10 --out checkpoints/x.safetensors
    python -m genlab eval checkpoints/fashion-mnist/vae-2d.safetensors
    python -m genlab sample checkpoints/fashion-mnist/vae-2d.safetensors --n 64 --out grid.png

Every setting of a model's config becomes a flag of `train` (latent_dim -> --latent-dim), so a new model kind
gets its CLI for free.
"""
from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
from pathlib import Path

import torch

from genlab.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from genlab.data import DATASETS, DatasetMissing, load_dataset
from genlab.device import describe_device, pick_device
from genlab.metrics import nats_to_bits_per_dim
from genlab.models import KINDS, get_kind
from genlab.train import NonFiniteLoss, Trainer, TrainSettings, evaluate_model

# Metrics that are negative log-likelihoods (or bounds on one) in nats per image: also shown in bits/dim.
NLL_METRICS = {"neg_elbo": "test negative ELBO", "nll": "test negative log-likelihood"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m genlab", description="Train, evaluate and sample genlab models.")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model and save a checkpoint")
    train.add_argument("kind", choices=sorted(KINDS))
    train.add_argument("--dataset", default="fashion-mnist", choices=sorted(DATASETS))
    train.add_argument("--epochs", type=float, default=None, help="passes over the training split")
    train.add_argument("--minutes", type=float, default=None, help="stop after this many minutes")
    train.add_argument("--steps", type=int, default=None, help="stop after this many steps (smoke tests)")
    train.add_argument("--batch-size", type=int, default=128)
    train.add_argument("--lr", type=float, default=None, help="learning rate (default: the model's)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default=None, help="cpu, cuda or mps (default: the fastest available)")
    train.add_argument("--half", action="store_true", help="store weights as float16 (half the file size)")
    train.add_argument("--weights-only", action="store_true",
                       help="leave out the optimiser state (a much smaller file; --resume then restarts the optimiser)")
    train.add_argument("--title", default=None, help="short name shown in the app's pickers")
    train.add_argument("--resume", default=None, help="continue from this checkpoint (weights and optimiser)")
    train.add_argument("--images-folder", default=None,
                       help="train on your own PNG/JPEG images in this folder (subfolders become classes) instead "
                            "of --dataset; --image-size 28 or 32 and --image-channels 1 or 3 choose their shape")
    train.add_argument("--out", required=True, help="where to write the .safetensors checkpoint")

    evaluate = commands.add_parser("eval", help="evaluate a checkpoint on its dataset's test split")
    evaluate.add_argument("path", nargs="?", help="a checkpoint (or use --all)")
    evaluate.add_argument("--all", action="store_true",
                          help="compare every checkpoint of --dataset with sample-quality metrics (a table)")
    evaluate.add_argument("--dataset", default=None, help="another dataset than the one in the model card")
    evaluate.add_argument("--samples", type=int, default=5000, help="with --all: samples per VAE/GAN")
    evaluate.add_argument("--samples-autoregressive", type=int, default=1000,
                          help="with --all: samples per PixelCNN")
    evaluate.add_argument("--device", default=None)

    sample = commands.add_parser("sample", help="save a grid of samples as PNG")
    sample.add_argument("path")
    sample.add_argument("--n", type=int, default=64)
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--out", required=True)

    args, extra = parser.parse_known_args(argv)
    try:
        if args.command == "train":
            return run_train(args, extra, argv)
        if extra:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        if args.command == "eval":
            return run_eval(args)
        return run_sample(args)
    except (CheckpointError, DatasetMissing, NonFiniteLoss, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def config_parser(kind_name: str) -> argparse.ArgumentParser:
    """Flags for every field of a kind's config, e.g. --latent-dim, --beta."""
    parser = argparse.ArgumentParser(prog=f"python -m genlab train {kind_name}", add_help=False)
    for f in dataclasses.fields(get_kind(kind_name).config_cls):
        flag = "--" + f.name.replace("_", "-")
        if f.type in ("bool", bool):
            parser.add_argument(flag, type=lambda s: s.lower() in ("1", "true", "yes"), default=None)
        else:
            caster = {"int": int, "float": float, "str": str}.get(str(f.type), str)
            parser.add_argument(flag, type=caster, default=None)
    return parser


def run_train(args, extra: list[str], argv: list[str]) -> int:
    kind = get_kind(args.kind)
    overrides, unknown = config_parser(args.kind).parse_known_args(extra)
    if unknown:
        raise ValueError(f"unknown option(s) for {args.kind}: {' '.join(unknown)}")
    device = pick_device(args.device)
    values = {k: v for k, v in vars(overrides).items() if v is not None}
    if args.images_folder:  # your own images become a dataset (genlab.user_data), registered for this run
        from genlab.user_data import register_folder

        folder = register_folder(args.images_folder, size=values.get("image_size", 28),
                                 channels=values.get("image_channels"))
        print(f"{args.images_folder}: {folder.report.summary()}")
        args.dataset = folder.dataset_name
    train_set, test_set = load_dataset(args.dataset, "train"), load_dataset(args.dataset, "test")
    channels, size, _ = train_set.image_shape
    config = kind.config_cls(**{"image_channels": channels, "image_size": size, **values})
    model = kind.build(config)
    steps_before, epochs_before, wall_before, optimizers = 0, 0.0, 0.0, None
    if args.resume:
        previous = load_checkpoint(args.resume, expect_kind=args.kind)
        model = previous.model.train()
        optimizers = model.make_optimizers(args.lr) if args.lr else model.make_optimizers()
        if not previous.restore_optimizers(optimizers):
            print("note: the checkpoint has no optimiser state; starting the optimiser afresh")
        steps_before = previous.card.get("steps", 0)
        epochs_before = previous.card.get("epochs", 0.0)
        wall_before = previous.card.get("wall_time_s", 0.0)
    epochs = args.epochs
    if args.steps:  # a step budget, expressed as a fraction of an epoch
        epochs = min(epochs or float("inf"), args.steps / -(-len(train_set) // args.batch_size))
    elif epochs is None and args.minutes is None:
        epochs = 1.0
    settings = TrainSettings(epochs=epochs, max_seconds=args.minutes * 60 if args.minutes else None,
                             batch_size=args.batch_size, lr=args.lr, seed=args.seed, sample_every_s=0)
    torch.manual_seed(args.seed)
    print(f"training {args.kind} on {args.dataset} ({len(train_set)} images) on {describe_device(device)}")
    bar = ProgressBar()
    trainer = Trainer(model, train_set, settings, device=device, optimizers=optimizers,
                      callbacks=[bar.update], start_step=steps_before)
    result = trainer.run()
    bar.close()
    if args.half:  # evaluate the weights exactly as they will be stored, so the card matches `eval`
        model.half().float()
    metrics = evaluate_model(model, test_set, device)
    dims = test_set.images[0].numel()
    card = {
        "title": args.title or f"{args.kind} on {args.dataset}",
        "dataset": args.dataset, "train_split": "train", "eval_split": "test",
        "train_source": train_set.source, "eval_source": test_set.source,
        "image_shape": list(train_set.image_shape), "class_names": train_set.class_names,
        "steps": result.steps, "epochs": round(epochs_before + result.epochs, 3), "batch_size": settings.batch_size,
        "lr": trainer.optimizers[next(iter(trainer.optimizers))].param_groups[0]["lr"], "seed": args.seed,
        "wall_time_s": round(wall_before + result.wall_time_s, 1), "device": describe_device(device),
        "metrics": {k: round(v, 4) for k, v in metrics.items()},
        "command": "python -m genlab " + shlex.join(argv),
    }
    for key in NLL_METRICS:
        if key in metrics:
            card["metrics"][f"{key}_bits_per_dim"] = round(nats_to_bits_per_dim(metrics[key], dims), 4)
    save_checkpoint(args.out, model, args.kind, card, half=args.half,
                    optimizers=None if args.weights_only else trainer.optimizers)
    print(f"saved {args.out} after {result.steps} steps in {result.wall_time_s:.0f} s")
    print_metrics(metrics, dims, test_set.name)
    return 0


def run_eval(args) -> int:
    if args.all:
        return run_eval_all(args)
    if not args.path:
        raise ValueError("give a checkpoint path, or --all --dataset NAME")
    device = pick_device(args.device)
    checkpoint = load_checkpoint(args.path, device=device)
    dataset_name = args.dataset or checkpoint.card.get("dataset")
    test_set = load_dataset(dataset_name, "test")
    metrics = evaluate_model(checkpoint.model, test_set, device)
    print(f"{args.path}: {checkpoint.kind} trained on {checkpoint.card.get('dataset')}, "
          f"evaluated on {len(test_set)} test images of {dataset_name} ({test_set.source})")
    if not metrics:
        print("this model has no likelihood to evaluate (an implicit model)")
    print_metrics(metrics, test_set.images[0].numel(), dataset_name)
    return 0


def run_eval_all(args) -> int:
    from genlab.compare import (METRIC_INFO, CompareSettings, checkpoint_row, format_value, generative_checkpoints,
                                load_reference, noise_row, real_data_row)

    if not args.dataset:
        raise ValueError("--all needs --dataset, e.g. --dataset fashion-mnist")
    device = pick_device(args.device)
    settings = CompareSettings(samples=args.samples, samples_autoregressive=args.samples_autoregressive)
    reference = load_reference(args.dataset, device)
    rows = [real_data_row(reference, settings)]
    for info in generative_checkpoints(args.dataset):
        print(f"scoring {info.path} ...", file=sys.stderr)
        rows.append(checkpoint_row(info.path, reference, settings, device))
    rows.append(noise_row(reference, settings))
    print(f"Sample quality on {args.dataset}: features of the shipped classifier, compared with the "
          f"{len(reference.test)} test images ({describe_device(device)}).\n")
    print("| metric | better | " + " | ".join(r["name"] for r in rows) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in rows) + " |")
    print("| samples | - | " + " | ".join(format_value("samples", r.get("samples")) for r in rows) + " |")
    for name, (_, better) in METRIC_INFO.items():
        print(f"| {name} | {better} | " + " | ".join(format_value(name, r.get(name)) for r in rows) + " |")
    print("| likelihood | - | " + " | ".join(r.get("likelihood", "-") for r in rows) + " |")
    return 0


def print_metrics(metrics: dict[str, float], dims: int, dataset: str) -> None:
    for key, value in metrics.items():
        if key in NLL_METRICS:
            print(f"{NLL_METRICS[key]} on {dataset}: {value:.2f} nats per image = "
                  f"{nats_to_bits_per_dim(value, dims):.4f} bits per dimension")
        else:
            print(f"{key}: {value:.4f}")


def run_sample(args) -> int:
    import torchvision

    checkpoint = load_checkpoint(args.path)
    images = checkpoint.model.sample(args.n, args.seed)  # (n, C, H, W) in [0, 1]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    torchvision.utils.save_image(images, args.out, nrow=int(args.n ** 0.5), padding=1)
    print(f"saved {args.n} samples (seed {args.seed}) to {args.out}")
    return 0


class ProgressBar:
    """A terminal progress bar (tqdm) fed by trainer events."""

    def __init__(self):
        from tqdm import tqdm

        self.bar = tqdm(total=1000, unit="‰", bar_format="{l_bar}{bar}| {elapsed}<{remaining} {postfix}")
        self.shown = 0

    def update(self, event) -> None:
        target = int(event.progress * 1000)
        if target > self.shown:
            self.bar.update(target - self.shown)
            self.shown = target
        if event.kind == "step" and event.step % 20 == 0:
            self.bar.set_postfix({**{k: f"{v:.2f}" for k, v in event.losses.items()},
                                  "img/s": f"{event.images_per_s:.0f}"})

    def close(self) -> None:
        self.bar.close()


if __name__ == "__main__":
    sys.exit(main())
