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

from genlab.checkpoints import CheckpointError, read_card
from genlab.data import DATASETS, DatasetMissing, load_dataset
from genlab.device import describe_device, pick_device
from genlab.models import AUTOREGRESSIVE, CODES, CONDITIONAL, KINDS, choices, get_kind
from genlab.models.base import evaluate_model, learning_rate, nats_to_bits_per_dim
from genlab.models.loading import load_checkpoint
from genlab.training import distributed
from genlab.training.distributed import SINGLE
from genlab.training.run import RunSpec, TrainingRun
from genlab.training.trainer import NonFiniteLoss

LIKELIHOOD_WORDS = {"exact": "test negative log-likelihood", "bound": "test negative ELBO"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m genlab", description="Train, evaluate and sample genlab models.")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model and save a checkpoint")
    train.add_argument("kind", choices=sorted(KINDS))
    train.add_argument("--dataset", default="fashion-mnist", choices=sorted(DATASETS))
    train.add_argument("--epochs", type=float, default=None, help="passes over the training split")
    train.add_argument("--minutes", type=float, default=None, help="stop after this many minutes")
    train.add_argument("--steps", type=int, default=None, help="stop after this many optimisation steps")
    train.add_argument("--batch-size", type=int, default=None, help="images per step (default: the model's own)")
    train.add_argument("--lr", type=float, default=None,
                       help="learning rate (default: the model's; with --resume, the checkpoint's)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default=None, help="cpu, cuda or mps (default: the fastest available)")
    train.add_argument("--half", action="store_true", help="store weights as float16 (half the file size)")
    train.add_argument("--weights-only", action="store_true",
                       help="leave out the optimiser state (a much smaller file; --resume then restarts the optimiser)")
    train.add_argument("--title", default=None, help="short name shown in the app's pickers")
    train.add_argument("--resume", default=None,
                       help="continue from this checkpoint (weights, optimiser, step count); settings given now win")
    train.add_argument("--images-folder", default=None,
                       help="train on your own PNG/JPEG images in this folder (subfolders become classes) instead "
                            "of --dataset; --image-size 28 or 32 and --image-channels 1 or 3 choose their shape")
    train.add_argument("--out", required=True, help="where to write the .safetensors checkpoint")

    evaluate = commands.add_parser("eval", help="evaluate a checkpoint on its dataset's test split")
    evaluate.add_argument("path", nargs="?", help="a checkpoint (or use --all)")
    evaluate.add_argument("--all", action="store_true",
                          help="compare every checkpoint of --dataset with sample-quality metrics (a table)")
    evaluate.add_argument("--dataset", default=None, help="another dataset than the one in the model card")
    evaluate.add_argument("--samples", type=int, default=5000, help="with --all: samples per model (not pixel by pixel)")
    evaluate.add_argument("--samples-autoregressive", type=int, default=1000,
                          help="with --all: samples per slow (autoregressive or iterative) model")
    evaluate.add_argument("--ship", action="store_true",
                          help="with --all at the default settings: also write the real-data, noise and shipped "
                               "checkpoints' rows into checkpoints/compare/, where the Compare page finds them at once")
    evaluate.add_argument("--likelihoods", action="store_true",
                          help="one table of -log p(x) for every checkpoint of --dataset with a likelihood, on the "
                               "same test images, beside the independent-pixel baseline")
    evaluate.add_argument("--iwae-k", type=int, default=1000,
                          help="with --likelihoods: importance samples for a VAE's tighter bound (1: none)")
    evaluate.add_argument("--agreement", type=int, default=0, metavar="N",
                          help="also ask the dataset's shipped classifier about N class-conditional samples and N "
                               "completions of bottom halves (autoregressive models)")
    evaluate.add_argument("--completions", type=int, default=0, metavar="N",
                          help="with --agreement: complete this many test images instead (default: as many)")
    evaluate.add_argument("--seed", type=int, default=0, help="with --agreement: the sampling seed")
    evaluate.add_argument("--guidance", type=float, default=0.0,
                          help="with --agreement: also measure with this classifier-free guidance weight (0: only "
                               "the model's own conditionals)")
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
            parser.add_argument(flag, type=caster, default=None, choices=choices(f))
    return parser


def run_train(args, extra: list[str], argv: list[str]) -> int:
    """Parse the kind's config flags, then run the one training recipe (genlab.training.run) with a progress bar."""
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
    resumed = read_card(args.resume).get("batch_size") if args.resume else None  # continue as it trained
    batch_size = args.batch_size or resumed or get_kind(args.kind).default_batch_size
    spec = RunSpec(kind=args.kind, dataset=args.dataset, config=values, epochs=args.epochs, minutes=args.minutes,
                   steps=args.steps, batch_size=batch_size, lr=args.lr, seed=args.seed, resume_from=args.resume,
                   title=args.title, half=args.half, weights_only=args.weights_only)
    world, command = SINGLE, "python -m genlab " + shlex.join(argv)
    if distributed.started_by_torchrun():  # one of several processes: join them (genlab/training/distributed.py)
        world, device = distributed.join(device)
        command = f"torchrun --nproc_per_node {world.size} -m genlab " + shlex.join(argv)
    try:
        return train_and_save(spec, args, device, world, command)
    finally:
        distributed.leave()


def train_and_save(spec: RunSpec, args, device: torch.device, world, command: str) -> int:
    """The recipe with a progress bar; with several processes, only rank 0 prints."""
    say = print if world.is_main else (lambda *a, **k: None)
    bar = ProgressBar() if world.is_main else None
    run = TrainingRun(spec, args.out, device, command=command, callbacks=[bar.update] if bar else [], world=world)
    torch.manual_seed(args.seed + world.rank)  # each process its own noise; the weights come from rank 0
    run.prepare()
    if run.grown:
        say(f"note: the new settings add {len(run.grown)} weight tensors that start without effect; the rest are "
            "the checkpoint's, and the optimiser starts afresh")
    elif args.resume and not run.restored_optimizer:
        say("note: the checkpoint has no optimiser state; starting the optimiser afresh")
    processes = f" x {world.size} processes (global batch {spec.batch_size * world.size})" if world.size > 1 else ""
    say(f"training {args.kind} on {args.dataset} ({len(run.train_set)} images) on {describe_device(device)}"
        f"{processes}, learning rate {learning_rate(run.trainer.optimizers):g}")
    failure = run.train()
    if bar:
        bar.close()
    card = run.finish()
    say(f"saved {args.out} after {card['steps']} steps in {run.wall_s:.0f} s")
    if failure:
        say(f"error: {failure}", file=sys.stderr)
        return 2
    if world.is_main:
        print_metrics(run.metrics, run.test_set.images[0].numel(), run.test_set.name, get_kind(args.kind))
    return 0


def run_eval(args) -> int:
    if args.all:
        return run_eval_all(args)
    if args.likelihoods:
        return run_likelihood_table(args)
    if not args.path:
        raise ValueError("give a checkpoint path, or --all --dataset NAME")
    device = pick_device(args.device)
    checkpoint = load_checkpoint(args.path, device=device)
    dataset_name = args.dataset or checkpoint.card.get("dataset")
    test_set = load_dataset(dataset_name, "test")
    metrics = evaluate_model(checkpoint.model, test_set, device)
    print(f"{args.path}: {checkpoint.kind} trained on {checkpoint.card.get('dataset')}, "
          f"evaluated on {len(test_set)} test images of {dataset_name} ({test_set.source})")
    kind = get_kind(checkpoint.kind)
    if kind.likelihood_metric is None:
        print(f"likelihood: {kind.no_likelihood}")
    print_metrics(metrics, test_set.images[0].numel(), dataset_name, kind)
    if args.agreement:
        print_agreement(checkpoint, dataset_name, test_set, args.agreement, args.completions or args.agreement,
                        args.seed, device, args.guidance)
    return 0


def print_agreement(checkpoint, dataset_name: str, test_set, n: int, completions: int, seed: int, device,
                    guidance: float = 0.0) -> None:
    """What the dataset's shipped classifier makes of the model's class-conditional samples and completions."""
    from genlab.evaluation.class_agreement import (code_class_agreement, completion_agreement,
                                                   conditional_sample_accuracy)
    from genlab.evaluation.compare import load_reference

    model, kind = checkpoint.model, get_kind(checkpoint.kind)
    classifier = load_reference(dataset_name, device).classifier
    chance = 1 / len(test_set.class_names)
    conditional = kind.can(CONDITIONAL) and model.config.num_classes
    if conditional:
        for w in dict.fromkeys([0.0, guidance]):
            result = conditional_sample_accuracy(model, classifier, n, seed, guidance=w)
            how = f"with classifier-free guidance w = {w:g}" if w else "from the model's own p(x | y)"
            print(f"class-conditional samples {how}: the classifier gives the class asked for to "
                  f"{result.accuracy:.1%} of {n} (chance {chance:.0%}); per class "
                  + ", ".join(f"{a:.0%}" for a in result.per_class))
    if kind.can(CODES):
        codes = code_class_agreement(model, classifier, n, seed)
        names = test_set.class_names
        print(f"the categorical code agrees with the classifier's class for {codes.accuracy:.1%} of {n} samples "
              "under the best one-to-one matching of code values to classes; code value -> "
              "class: "
              + ", ".join(f"{k} -> {names[c] if 0 <= c < len(names) else '?'}" for k, c in enumerate(codes.matching)))
    if kind.can(AUTOREGRESSIVE):
        result = completion_agreement(model, classifier, test_set, completions, seed)
        print(f"completing the bottom half of the first {result.images} test images: the classifier gives the "
              f"original's class to {result.completed:.1%} of the completions, {result.bare:.1%} of the bare top "
              f"halves (the floor to beat) and {result.original:.1%} of the originals as the model sees them "
              "(the ceiling to approach)")
        if conditional:
            for w in dict.fromkeys([0.0, guidance]):
                best = completion_agreement(model, classifier, test_set, completions, seed, guess_class=True,
                                            most_likely=True, guidance=w)
                how = f", with classifier-free guidance w = {w:g} towards it" if w else ""
                print(f"the same completions drawn for the class the model finds most likely from the top half "
                      f"(Bayes' rule on its own likelihoods){how}: {best.completed:.1%}")


def run_eval_all(args) -> int:
    from genlab.evaluation.compare import (METRIC_INFO, CompareSettings, checkpoint_row, checkpoint_row_key,
                                           format_value, generative_checkpoints, load_reference, noise_row,
                                           noise_row_key, real_data_row, real_row_key, ship_row,
                                           stale_shipped_rows)

    if not args.dataset:
        raise ValueError("--all needs --dataset, e.g. --dataset fashion-mnist")
    device = pick_device(args.device)
    settings = CompareSettings(samples=args.samples, samples_autoregressive=args.samples_autoregressive)
    if args.ship and settings != CompareSettings():
        raise ValueError("--ship writes the rows the Compare page opens with: leave --samples and "
                         "--samples-autoregressive at their defaults")
    reference = load_reference(args.dataset, device)
    rows = [real_data_row(reference, settings)]
    shipped = [(real_row_key(args.dataset, settings), rows[0])]
    for info in generative_checkpoints(args.dataset):
        print(f"scoring {info.path} ...", file=sys.stderr)
        rows.append(checkpoint_row(info.path, reference, settings, device))
        if info.source == "shipped":
            shipped.append((checkpoint_row_key(info.path, args.dataset, settings), rows[-1]))
    rows.append(noise_row(reference, settings))
    shipped.append((noise_row_key(args.dataset, settings), rows[-1]))
    if args.ship:
        for key, row in shipped:
            print(f"shipped {ship_row(key, row)}", file=sys.stderr)
        for stale in stale_shipped_rows():
            stale.unlink()
            print(f"removed {stale} (no shipped checkpoint or settings make its key)", file=sys.stderr)
    print(f"Sample quality on {args.dataset}: features of the shipped classifier, compared with the "
          f"{len(reference.test)} test images ({describe_device(device)}).\n")
    print("| metric | better | " + " | ".join(r["name"] for r in rows) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in rows) + " |")
    print("| samples | - | " + " | ".join(format_value("samples", r.get("samples")) for r in rows) + " |")
    for name, (_, better) in METRIC_INFO.items():
        print(f"| {name} | {better} | " + " | ".join(format_value(name, r.get(name)) for r in rows) + " |")
    print("| likelihood | - | " + " | ".join(r.get("likelihood", "-") for r in rows) + " |")
    print("| pixel values | - | " + " | ".join(r.get("discretisation", "-") for r in rows) + " |")
    return 0


def run_likelihood_table(args) -> int:
    from genlab.evaluation.likelihood_table import likelihood_table

    if not args.dataset or args.path:
        raise ValueError("--likelihoods scores every checkpoint of a dataset: give --dataset (e.g. binary-digits), "
                         "not a checkpoint path")
    device = pick_device(args.device)
    table = likelihood_table(args.dataset, device, args.iwae_k, progress=lambda text: print(text, file=sys.stderr))
    print(f"-log p(x) on the {table.images} test images of {args.dataset} ({table.source}), nats per image, "
          f"lower is better ({describe_device(device)}):\n")
    print("| model | −log p(x), nats | measured as | parameters |")
    print("| --- | --- | --- | --- |")
    for row in table.rows:
        print(f"| {row.name} | {row.nats:.2f} | {row.measure} | {row.parameters:,} |")
    for reason in table.left_out:
        print(f"left out: {reason}")
    return 0


def print_metrics(metrics: dict[str, float], dims: int, dataset: str, kind) -> None:
    for key, value in metrics.items():
        if key == kind.likelihood_metric:
            print(f"{LIKELIHOOD_WORDS[kind.likelihood]} on {dataset}: {value:.2f} nats per image = "
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
