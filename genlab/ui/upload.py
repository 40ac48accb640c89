"""Upload a checkpoint: safetensors only, validated before it is kept, saved with your models.

A .safetensors file is a JSON header plus raw numbers, and genlab.checkpoints reads it without pickle, so an
uploaded file cannot run code (a pickle renamed to .safetensors is simply "not a safetensors checkpoint").
A valid upload is written (atomically) into the uploader's checkpoint folder: a student's private one, listed
for that student only until the teacher shares it (genlab/classroom.py), or the teacher's shared one.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import streamlit as st

from genlab.checkpoints import CheckpointError, write_atomically
from genlab.classroom import TEACHER, home_of
from genlab.models.loading import load_checkpoint
from genlab.ui.roles import me


def save_uploaded_checkpoint(data: bytes, filename: str, kind: str | None = None, capability: str | None = None,
                             owner: str = TEACHER) -> Path:
    """Validate an uploaded checkpoint (kind, config, every tensor's shape) and keep it in the owner's folder (a
    student's private one, or the shared one for the teacher).

    Returns its path; raises CheckpointError with one sentence when it is not usable."""
    if not filename.lower().endswith(".safetensors"):
        raise CheckpointError("Only .safetensors checkpoints are accepted (never pickle or .pt files).")
    checkpoint = load_checkpoint(data, expect_kind=kind, expect_capability=capability)  # raises CheckpointError; never unpickles
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(filename).stem)[:40].strip("-.") or "checkpoint"
    digest = hashlib.sha256(data).hexdigest()[:10]
    path = home_of(owner) / "uploads" / f"{checkpoint.kind}-{stem}-{digest}.safetensors"
    if not path.exists():
        write_atomically(path, data)
    return path


def checkpoint_uploader(key: str, label: str | None = None, *, kind: str | None = None,
                        capability: str | None = None) -> Path | None:
    """A file uploader for a checkpoint (of `kind`, or of any kind with `capability`). Returns the saved path of a
    valid upload, else None."""
    upload = st.file_uploader(
        label or "Upload a checkpoint (.safetensors)", type=["safetensors"], key=key,
        help="A model file trained with genlab (on the Train page, for example). It is checked before it is "
             "kept, and it cannot run code.")
    if upload is None:
        return None
    data = upload.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    done = st.session_state.get(f"{key}_saved")
    if done and done[0] == digest and Path(done[1]).exists():  # validated on an earlier rerun
        path = Path(done[1])
    else:
        try:
            path = save_uploaded_checkpoint(data, upload.name, kind, capability, owner=me())
        except CheckpointError as e:
            st.error(str(e))
            return None
        st.session_state[f"{key}_saved"] = (digest, str(path))
    st.success(f"Checked and saved with your models as `{path.name}`.")
    return path
