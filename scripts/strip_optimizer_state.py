"""Re-save checkpoints without their optimiser state (weights and model card unchanged), to keep shipped files small.

Usage: .venv/bin/python -m scripts.strip_optimizer_state checkpoints/*/*.safetensors
The card's command gets `--weights-only`, which makes the CLI write exactly such a file in the first place.
"""
import sys

from genlab.checkpoints import save_checkpoint
from genlab.models.loading import load_checkpoint

ADDED_BY_SAVE = ("kind", "config", "genlab_version", "optimizers")

for path in sys.argv[1:]:
    checkpoint = load_checkpoint(path)
    if not checkpoint.optimizer_tensors:
        print(f"{path}: already weights only")
        continue
    card = {k: v for k, v in checkpoint.card.items() if k not in ADDED_BY_SAVE}
    if "--weights-only" not in card.get("command", ""):
        card["command"] = card.get("command", "") + " --weights-only"
    half = "--half" in card.get("command", "")
    save_checkpoint(path, checkpoint.model, checkpoint.kind, card, half=half)
    print(f"{path}: optimiser state removed")
