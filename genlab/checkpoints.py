"""Save, load and list checkpoints: one safetensors file per model, its model card inside the file.

A safetensors file is a JSON header followed by raw tensor bytes, so reading one can never run code (unlike
pickle or a plain torch.load). The header's metadata holds our model card as JSON under the key "genlab":
kind, config, dataset, image shape, steps, wall time, device, metrics and the exact command that made it.

Writes go to a temporary file that is renamed into place, so a crash or a full disk never leaves half a
checkpoint and never damages the previous one. Loading checks the card, the kind and every tensor's shape,
and says in one sentence what does not fit (CheckpointError). This file knows the format, not the models:
rebuilding a model from a file is genlab/models/loading.py.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import os
import struct
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes

import genlab

SHIPPED_DIR = genlab.ROOT / "checkpoints"
MAX_HEADER_BYTES = 10_000_000  # a real header is a few kB; refuse absurd ones before reading them
OPTIMIZER_PREFIX = "optimizer."
_UMASK = os.umask(0o022)  # read the process umask once (setting it is not thread-safe), then put it back
os.umask(_UMASK)


class CheckpointError(ValueError):
    """A file that is not a usable genlab checkpoint; the message is one sentence saying why."""


class CheckpointWriteError(CheckpointError, OSError):
    """A checkpoint that could not be written (full disk, no permission); one sentence, and an OSError too."""


PRIVATE = "private"  # the user folder's subfolder of students' unshared files (genlab/classroom.py)


def user_checkpoint_dir() -> Path:
    """Where checkpoints trained in the app are saved (GENLAB_USER_CHECKPOINTS, else user_checkpoints/)."""
    return Path(os.environ.get("GENLAB_USER_CHECKPOINTS", genlab.ROOT / "user_checkpoints"))


# ---------------------------------------------------------------------------------------------------------
# Saving


def save_checkpoint(path: str | Path, model: torch.nn.Module, kind: str, card: dict,
                    optimizers: dict[str, torch.optim.Optimizer] | None = None, half: bool = False) -> Path:
    """Write model weights (and optionally optimiser state, for resuming) with `card` as metadata.

    `card` holds what the model card should say (dataset, steps, metrics, command, ...); kind, config and
    the genlab version are added here. half=True stores floating-point weights as float16 (half the size).
    """
    path = Path(path)
    tensors = {}
    for name, value in model.state_dict().items():
        value = value.detach().to("cpu")
        if half and value.is_floating_point():
            value = value.half()
        tensors[name] = value.contiguous()
    optimizer_meta = {}
    for opt_name, optimizer in (optimizers or {}).items():
        optimizer_meta[opt_name], opt_tensors = _split_optimizer_state(opt_name, optimizer)
        tensors.update(opt_tensors)
    full_card = {
        "kind": kind, "config": dataclasses.asdict(model.config), "genlab_version": genlab.__version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **card,
    }
    if optimizer_meta:
        full_card["optimizers"] = optimizer_meta
    data = save_safetensors_bytes(tensors, metadata={"genlab": json.dumps(full_card)})
    write_atomically(path, data)
    return path


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename it over `path` (atomic on POSIX).

    On failure (a full disk, no permission) the temporary file is removed, any earlier file at `path` is
    untouched, and CheckpointWriteError says so in one sentence."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes the file private; a checkpoint is an ordinary file
        os.replace(tmp, path)
    except BaseException as e:
        if tmp is not None:
            try:
                Path(tmp).unlink(missing_ok=True)
            except OSError:
                pass
        if isinstance(e, OSError) and not isinstance(e, CheckpointError):
            reason = (e.strerror or type(e).__name__).rstrip(".").lower()
            error = CheckpointWriteError(f"'{path.name}' could not be saved ({reason}); any earlier file with "
                                         "that name is unchanged.")
            error.errno = e.errno
            raise error from e
        raise


def _split_optimizer_state(opt_name: str, optimizer: torch.optim.Optimizer) -> tuple[dict, dict]:
    """An optimiser's state dict as JSON (hyper-parameters, scalars) plus named tensors (moments)."""
    state_dict = optimizer.state_dict()
    meta = {"param_groups": state_dict["param_groups"], "state": {}}
    tensors = {}
    for index, entry in state_dict["state"].items():
        meta["state"][str(index)] = {}
        for key, value in entry.items():
            if torch.is_tensor(value):
                tensors[f"{OPTIMIZER_PREFIX}{opt_name}.{index}.{key}"] = value.detach().to("cpu").contiguous()
            else:
                meta["state"][str(index)][key] = value
    return meta, tensors


# ---------------------------------------------------------------------------------------------------------
# Loading


def read_card(source: str | Path | bytes) -> dict:
    """The model card of a checkpoint, read from the header only (cheap; no tensors are loaded)."""
    return card_from_header(read_header(source), source)


def card_from_header(header: dict, source: str | Path | bytes) -> dict:
    metadata = header.get("__metadata__")
    raw = metadata.get("genlab") if isinstance(metadata, dict) else None
    if raw is None:
        raise CheckpointError(f"{source_name(source)} is a safetensors file but has no genlab model card.")
    try:
        card = json.loads(raw)
    except json.JSONDecodeError:
        raise CheckpointError(f"{source_name(source)} has a damaged model card (its JSON does not parse).") from None
    if not isinstance(card, dict) or not isinstance(card.get("kind"), str) or not isinstance(card.get("config"), dict):
        raise CheckpointError(f"{source_name(source)} has a model card without a model kind and config.")
    return card


def source_name(source: str | Path | bytes) -> str:
    return "The uploaded file" if isinstance(source, (bytes, bytearray)) else f"'{Path(source).name}'"


def read_header(source: str | Path | bytes) -> dict:
    """Parse a safetensors header: 8 bytes little-endian length, then that many bytes of JSON."""
    try:
        if isinstance(source, (bytes, bytearray)):
            head = bytes(source[:8])
            length = struct.unpack("<Q", head)[0] if len(head) == 8 else -1
            body = bytes(source[8:8 + length]) if 0 < length <= MAX_HEADER_BYTES else b""
        else:
            with open(source, "rb") as f:
                head = f.read(8)
                length = struct.unpack("<Q", head)[0] if len(head) == 8 else -1
                body = f.read(length) if 0 < length <= MAX_HEADER_BYTES else b""
    except FileNotFoundError:
        raise CheckpointError(f"{source_name(source)} does not exist (it may have been deleted).") from None
    except OSError as e:
        raise CheckpointError(f"{source_name(source)} cannot be read: {e.strerror}.") from None
    if length <= 0 or len(body) != length:
        raise CheckpointError(f"{source_name(source)} is not a safetensors checkpoint (empty, truncated or another format).")
    try:
        header = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise CheckpointError(f"{source_name(source)} is not a safetensors checkpoint (its header is not JSON).") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{source_name(source)} is not a safetensors checkpoint (its header is not a table).")
    return header


def read_tensors(source: str | Path | bytes) -> dict[str, torch.Tensor]:
    try:
        data = bytes(source) if isinstance(source, (bytes, bytearray)) else Path(source).read_bytes()
        return load_safetensors_bytes(data)
    except FileNotFoundError:
        raise CheckpointError(f"{source_name(source)} does not exist (it may have been deleted).") from None
    except Exception:  # safetensors raises its own error types for truncated or inconsistent files
        raise CheckpointError(f"{source_name(source)} is damaged: its tensors do not match its header.") from None


# ---------------------------------------------------------------------------------------------------------
# Listing


@dataclass(frozen=True)
class CheckpointInfo:
    path: Path
    source: str  # "shipped" or "yours"
    card: dict | None  # None when the file could not be read
    error: str | None = None

    @property
    def kind(self) -> str | None:
        return self.card["kind"] if self.card else None

    @property
    def dataset(self) -> str | None:
        return self.card.get("dataset") if self.card else None

    @property
    def label(self) -> str:
        """A short name for pickers: the card's title, else the file name."""
        title = " ".join(str((self.card or {}).get("title") or self.path.stem).split())
        title = title if len(title) <= 80 else title[:79].rstrip() + "…"  # someone may have typed 2,000 characters
        return f"{title} ({self.source})"


_cards: dict[tuple, tuple[str | None, str | None]] = {}  # file version -> (card as JSON text, or why none)
_cards_lock = threading.Lock()


def _listed_card(path: Path) -> tuple[dict | None, str | None]:
    """The card of a listed file (or why it has none), read once per version of the file: every rerun of
    every page lists the checkpoints, and re-reading every header at each of them was a large share of a busy
    server's time (benchmarks/protocol_classroom.py --profile). A file's version is its inode, size and
    modification and change times; each caller gets its own copy of the card (parsed from the kept JSON)."""
    try:
        stat = path.stat()
        key = (path, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    except OSError:
        key = None
    with _cards_lock:
        known = _cards.get(key) if key else None
    if known is None:
        try:
            known = (json.dumps(read_card(path)), None)
        except CheckpointError as e:
            if not isinstance(e.__cause__ or e.__context__, OSError) and key:  # a bad file, not a passing failure
                known = (None, str(e))
            else:
                return None, str(e)
        if key:
            with _cards_lock:
                if len(_cards) > 10_000:  # files come and go on a long-running server
                    _cards.clear()
                _cards[key] = known
    text, error = known
    return (json.loads(text) if text is not None else None), error


def list_checkpoints(kind: str | None = None, dataset: str | None = None,
                     folders: list[tuple[Path, str]] | None = None, kinds: set[str] | None = None,
                     private: str | None = None) -> list[CheckpointInfo]:
    """Every checkpoint in the shipped folder and the shared user folder (optionally of one kind, of any of
    `kinds`, of one dataset), and the private files of the student named `private` (genlab/classroom.py).

    Damaged files are listed with `error` set, so a page can say so instead of failing."""
    folders = folders or [(SHIPPED_DIR, "shipped"), (user_checkpoint_dir(), "yours")]
    if private:
        folders = folders + [(user_checkpoint_dir() / PRIVATE / private, "yours")]
    found = []
    for folder, source in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.safetensors")):
            if folder == user_checkpoint_dir() and path.relative_to(folder).parts[0] == PRIVATE:
                continue  # students' unshared files: listed for their owner only
            card, error = _listed_card(path)
            info = CheckpointInfo(path=path, source=source, card=card, error=error)
            if kind and info.kind != kind or kinds is not None and info.kind not in kinds or \
                    dataset and info.dataset != dataset:
                continue
            found.append(info)
    return found
