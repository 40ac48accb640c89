"""Autoencoders against the VAE, measured the same way in one run: FID of N decodes of prior codes (N(0, I) for the
VAE and the plain autoencoder, which has no prior of its own; its own prior for an AAE), and how well the encoded
test set matches a prior (MMD^2 between the codes and as many prior samples; beside it, two prior samples' MMD^2,
what a perfect match scores).

    python benchmarks/autoencoder_quality.py checkpoints/digits/vae-2d.safetensors \
        checkpoints/digits/autoencoder-2d.safetensors checkpoints/digits/aae-mixture.safetensors \
        --prior-of checkpoints/digits/aae-mixture.safetensors
    python benchmarks/autoencoder_quality.py --n 5000 checkpoints/fashion-mnist/vae-2d.safetensors \
        checkpoints/fashion-mnist/autoencoder-2d.safetensors

Every checkpoint must be of the same dataset. "codes vs N(0, I)" judges every model against one prior, so a VAE
and an AAE with a Gaussian prior are compared like with like; "codes vs own prior" uses each model's own.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from diffusion_quality import draw, one_dataset, scored, table  # noqa: E402  (same folder: one way to score samples)

from genlab.device import describe_device, pick_device  # noqa: E402
from genlab.evaluation.code_match import codes_against_prior  # noqa: E402
from genlab.evaluation.compare import load_reference  # noqa: E402
from genlab.models import get_kind  # noqa: E402
from genlab.models.base import evaluate_model  # noqa: E402
from genlab.models.loading import load_checkpoint  # noqa: E402
from genlab.models.vae import VAE, VAEConfig  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--n", type=int, default=1000, help="samples per model for FID (the same N for all)")
    parser.add_argument("--codes", type=int, default=2000, help="test images encoded for the MMD")
    parser.add_argument("--prior-of", default=None,
                        help="a checkpoint with a prior (an AAE): also judge every model's codes against it")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = pick_device()
    loaded, dataset = one_dataset(args.checkpoints, device)
    reference = load_reference(dataset, device)
    gaussian = VAE(VAEConfig(latent_dim=2))  # only its prior_sample is used: N(0, I) in 2-D
    other = load_checkpoint(args.prior_of).model.float() if args.prior_of else None
    print(f"{dataset}: FID of {args.n} samples per model (features of the shipped classifier), MMD^2 of "
          f"min({args.codes}, test size) codes; {describe_device(device)}, {args.threads} threads\n")
    rows = []
    for path, checkpoint in zip(args.checkpoints, loaded):
        model = checkpoint.model.float()
        fid = scored(draw(model, args.n, 500), reference)["FID"]
        own = codes_against_prior(model, reference.test, args.codes) if hasattr(model, "prior_sample") else None
        normal = (codes_against_prior(model, reference.test, args.codes, prior_of=gaussian)
                  if model.latent_dim == 2 else None)
        recon = evaluate_model(model, reference.test, device).get("recon")
        against = (codes_against_prior(model, reference.test, args.codes, prior_of=other).mmd2
                   if other is not None and model.latent_dim == other.latent_dim else "-")
        rows.append([Path(path).name, get_kind(checkpoint.kind).title, getattr(model, "prior_words", "none"), fid,
                     normal.mmd2 if normal else "-", own.mmd2 if own else "-", own.baseline if own else "-",
                     *([against] if other is not None else []), recon if recon is not None else "-"])
    table(["checkpoint", "kind", "prior", "FID", "codes vs N(0, I): MMD²", "codes vs own prior: MMD²",
           "two prior samples: MMD²", *([f"codes vs {Path(args.prior_of).name}'s prior: MMD²"] if other else []),
           "reconstruction (nats)"], rows)


if __name__ == "__main__":
    main()
