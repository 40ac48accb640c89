"""Rebuild a model from a checkpoint file: the registry's half of loading (the file format is genlab/checkpoints.py).

The card names the kind and its config; the model is built on the meta device first, so every tensor's name and
shape is checked against the header before any data is read or any memory allocated, and nothing is unpickled.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from genlab.checkpoints import (OPTIMIZER_PREFIX, CheckpointError, card_from_header, read_header, read_tensors,
                                source_name)
from genlab.models import KINDS, NEEDS, get_kind


@dataclass
class LoadedCheckpoint:
    model: torch.nn.Module  # in eval mode, on the requested device
    card: dict
    path: Path | None
    optimizer_tensors: dict[str, torch.Tensor]

    @property
    def kind(self) -> str:
        return self.card["kind"]

    def restore_optimizers(self, optimizers: dict[str, torch.optim.Optimizer]) -> bool:
        """Load the saved optimiser state into freshly made optimisers; False when none was saved."""
        saved = self.card.get("optimizers") or {}
        if set(saved) != set(optimizers):
            return False
        for name, optimizer in optimizers.items():
            state = {}
            for index, scalars in saved[name]["state"].items():
                entry = dict(scalars)
                prefix = f"{OPTIMIZER_PREFIX}{name}.{index}."
                for key, value in self.optimizer_tensors.items():
                    if key.startswith(prefix):
                        entry[key[len(prefix):]] = value
                state[int(index)] = entry
            optimizer.load_state_dict({"state": state, "param_groups": saved[name]["param_groups"]})
        return True


def load_checkpoint(source: str | Path | bytes, device: str | torch.device = "cpu",
                    expect_kind: str | None = None, expect_capability: str | None = None) -> LoadedCheckpoint:
    """Load and validate a checkpoint from a path or from uploaded bytes. Raises CheckpointError."""
    header = read_header(source)
    card = card_from_header(header, source)
    if expect_kind and card["kind"] != expect_kind:
        raise CheckpointError(f"{source_name(source)} holds a {card['kind'][:40]} model, but this page needs a "
                              f"{expect_kind}.")
    if expect_capability and (card["kind"] not in KINDS or not KINDS[card["kind"]].can(expect_capability)):
        raise CheckpointError(f"{source_name(source)} holds a {card['kind'][:40]} model, but this page needs "
                              f"{NEEDS[expect_capability]}.")
    if card["kind"] not in KINDS:
        raise CheckpointError(f"{source_name(source)} holds a model of a kind this genlab does not know "
                              f"({card['kind'][:40]!r}; it knows {', '.join(sorted(KINDS))}).")
    kind = get_kind(card["kind"])
    try:
        config = kind.config_from_dict(card["config"])
        with torch.device("meta"):  # shapes only, no memory: a card must not make us allocate a huge model
            expected = kind.build(config).state_dict()
    except ValueError as e:
        reason = str(e).splitlines()[0][:200].rstrip(".") if str(e) else "its settings are not valid"
        raise CheckpointError(f"{source_name(source)} describes a model genlab cannot build: {reason}.") from None
    except (TypeError, RuntimeError, ArithmeticError):
        raise CheckpointError(f"{source_name(source)} describes a model genlab cannot build: its settings are not "
                              "valid.") from None
    _check_names_and_shapes(source, card["kind"], expected,
                            {k: v for k, v in header.items() if k != "__metadata__"})  # before reading any data
    model = kind.build(config)
    tensors = read_tensors(source)
    optimizer_tensors = {k: v for k, v in tensors.items() if k.startswith(OPTIMIZER_PREFIX)}
    weights = {k: v for k, v in tensors.items() if not k.startswith(OPTIMIZER_PREFIX)}
    expected = model.state_dict()
    for name, value in weights.items():  # names and shapes were checked against the header above
        if value.is_floating_point() and not torch.isfinite(value).all():
            raise CheckpointError(f"{source_name(source)} has NaN or infinite weights in {name}.")
        weights[name] = value.to(expected[name].dtype)
    model.load_state_dict(weights)
    model.to(device).eval()
    return LoadedCheckpoint(model=model, card=card, path=None if isinstance(source, bytes) else Path(source),
                            optimizer_tensors=optimizer_tensors)


def _check_names_and_shapes(source, kind: str, expected: dict[str, torch.Tensor], entries: dict) -> None:
    """The header's tensor names and shapes against the model's (optimiser tensors are not the model's)."""
    weights = {k: v for k, v in entries.items() if not k.startswith(OPTIMIZER_PREFIX)}
    missing, unexpected = sorted(set(expected) - set(weights)), sorted(set(weights) - set(expected))
    if missing or unexpected:
        what = f"misses {missing[0]}" if missing else f"has an unexpected tensor {unexpected[0][:80]}"
        raise CheckpointError(f"{source_name(source)} does not fit a {kind} with its own settings: it {what}.")
    for name, entry in weights.items():
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if not isinstance(shape, list) or not all(isinstance(d, int) for d in shape):
            raise CheckpointError(f"{source_name(source)} is damaged: its header gives {name} no valid shape.")
        if tuple(shape) != tuple(expected[name].shape):
            raise CheckpointError(
                f"{source_name(source)} does not fit: {name} has shape {tuple(shape)}, "
                f"the model needs {tuple(expected[name].shape)}.")
