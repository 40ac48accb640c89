"""Cached loaders and small widgets every page uses.

Models and datasets are loaded once per server process (st.cache_resource) and shared by every browser
session: they are put in eval mode and must never be changed by a page (use torch.inference_mode()).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import streamlit as st
import torch

from genlab.checkpoints import CheckpointError, CheckpointInfo, list_checkpoints
from genlab.classroom import inert
from genlab.data import DATASETS, DatasetMissing, ImageDataset, load_dataset
from genlab.device import describe_device, pick_device
from genlab.models import NEEDS, ModelKind, get_kind, kind_names_with
from genlab.models.loading import LoadedCheckpoint, load_checkpoint
from genlab.ui.presenter import is_presenting
from genlab.ui.roles import my_private_folder
from genlab.ui.upload import checkpoint_uploader


@st.cache_resource(show_spinner=False)
def device() -> torch.device:
    return pick_device()


@st.cache_resource(show_spinner="Loading the model…", max_entries=16)
def _load_model(path: str, modified: float) -> LoadedCheckpoint:
    checkpoint = load_checkpoint(path, device=device())
    for p in checkpoint.model.parameters():
        p.requires_grad_(False)  # shared by every session: nobody trains or changes it
    return checkpoint


def load_model(path: str | Path) -> LoadedCheckpoint:
    """A checkpoint loaded once per file version (the modification time is part of the cache key)."""
    path = Path(path)
    try:
        modified = path.stat().st_mtime
    except FileNotFoundError:
        raise CheckpointError(f"'{path.name}' does not exist any more (it may have been deleted).") from None
    return _load_model(str(path), modified)


@st.cache_resource(show_spinner="Loading the dataset…", max_entries=12)
def dataset(name: str, split: str) -> ImageDataset:
    return load_dataset(name, split)


def device_badge() -> None:
    st.caption(f"Running on **{describe_device(device())}**.")


def checkpoint_picker(capability: str | None, key: str, help: str | None = None, upload: bool = True,
                      kind: str | None = None, first: Callable[[ModelKind], bool] | None = None
                      ) -> CheckpointInfo | None:
    """A selectbox of every readable checkpoint whose kind has `capability` (or is `kind`), shipped and yours, and
    below it an uploader for such a checkpoint (checked, then listed and selected). None (with a message) if
    there is none. first: kinds to list (and select) before the others."""
    kinds = {kind} if kind else kind_names_with(capability)
    found = [c for c in list_checkpoints(kinds=kinds, private=my_private_folder()) if c.card is not None]
    if first is not None:
        found.sort(key=lambda c: not first(get_kind(c.kind)))  # stable: the usual order within each group
    uploaded = st.session_state.pop(f"{key}_uploaded", None)  # the path to select after an upload
    paths = [str(c.path) for c in found]
    if uploaded in paths:
        st.session_state[key] = paths.index(uploaded)
    wanted = get_kind(kind).title if kind else NEEDS[capability]
    if not found:
        st.warning(f"No model of {wanted} is available yet. Train one on the Train page.")
        info = None
    else:
        labels = [f"{c.label} · {DATASETS[c.dataset].title if c.dataset in DATASETS else c.dataset}" for c in found]
        if st.session_state.get(key, 0) >= len(found):  # a listed file has gone since the last run
            st.session_state[key] = 0
        select_from_url(key, found)
        index = st.selectbox("Model", range(len(found)), format_func=labels.__getitem__, key=key,
                             help=help or "Pretrained checkpoints ship with genlab; models you train appear here "
                                          "too.")
        info = found[index]
    if upload and not is_presenting():  # a projector shows the lesson, not the uploader
        with st.expander("Upload a checkpoint"):
            saved = checkpoint_uploader(key=f"{key}_upload", kind=kind, capability=None if kind else capability)
        if saved is not None and str(saved) != (str(info.path) if info else None) \
                and st.session_state.get(f"{key}_selected_upload") != str(saved):
            st.session_state[f"{key}_selected_upload"] = str(saved)  # select a new upload once, then let go
            st.session_state[f"{key}_uploaded"] = str(saved)
            st.rerun()
    return info


def select_from_url(key: str, found: list[CheckpointInfo]) -> None:
    """A link such as ?model=digits/nade (the lesson path's) selects that checkpoint when the page opens with it; it
    stays in the address (removing it would add a step to the browser's history, and Back would land on the link
    again), but is applied once per value, so picking another model afterwards is not undone."""
    wanted = st.query_params.get("model")
    if wanted is None or st.session_state.get(f"{key}_from_url") == wanted:
        return
    st.session_state[f"{key}_from_url"] = wanted
    match = next((i for i, c in enumerate(found) if c.path.with_suffix("").as_posix().endswith("/" + wanted)), None)
    if match is not None:
        st.session_state[key] = match
    elif wanted.strip():
        st.info(f"The link asks for the model {inert(wanted)}, which this page cannot show here (not installed, or "
                "not a model of this page); showing another.")


def forget_models_from_urls() -> None:
    """Let the next ?model= link select its model again (the lesson path calls this: each of its links is a fresh
    request, even one followed before)."""
    for key in [k for k in st.session_state if str(k).endswith("_from_url")]:
        del st.session_state[key]


def model_card(checkpoint: LoadedCheckpoint) -> None:
    """The model card in an expander: what it was trained on, how long, how good, and how to reproduce it; below
    it, the model's own sentence about its settings."""
    if is_presenting():
        return
    card = checkpoint.card
    kind = get_kind(checkpoint.kind)
    with st.expander("Model card"):
        st.write(f"{kind.title}: {kind.summary} ({kind.paper})")
        facts = {k: inert(card.get(k, "?"), 120) for k in ("dataset", "train_source", "epochs", "steps",
                                                          "wall_time_s", "device")}  # a card is anyone's text
        st.write(f"**{inert(card.get('title', card['kind']))}**, trained on {facts['dataset']} "
                 f"({facts['train_source']}) for {facts['epochs']} epochs, {facts['steps']} steps, "
                 f"{facts['wall_time_s']} s on {facts['device']}.")
        if isinstance(card.get("metrics"), dict) and card["metrics"]:  # a table shows text as typed: no Markdown
            words = kind.loss_labels
            st.dataframe({"test figure": [words.get(k, str(k).replace("_", " ")[:40]) for k in card["metrics"]],
                          "value": [f"{v:.4g}" if isinstance(v, (int, float)) else str(v)[:40]
                                    for v in card["metrics"].values()]}, hide_index=True)
        st.caption("For the teacher: the command that trained it.")
        st.code(card.get("command", "(no command recorded)"), language="bash")
    if checkpoint.model.describe():
        st.caption(f"{checkpoint.model.describe()} Trained on {inert(card.get('dataset'))}.")


def show_error(error: Exception) -> None:
    """One sentence for the expected failures (bad file, missing data); never a traceback."""
    if isinstance(error, (CheckpointError, DatasetMissing, ValueError)):
        st.error(str(error))
    else:
        raise error


def pick_model(intro, picker, capability: str, key: str, help: str) -> tuple[CheckpointInfo, LoadedCheckpoint]:
    """A page's model column (`picker`): every checkpoint with the capability, the device, the model card; and the
    kind's one line under the page's introduction (`intro`). Stops the page, with one sentence, when there is no
    such model or the chosen file cannot be read."""
    with picker:
        info = checkpoint_picker(capability, key=key, help=help)
        device_badge()
    if info is None:
        st.stop()
    try:
        checkpoint = load_model(info.path)
    except (CheckpointError, ValueError) as error:
        show_error(error)
        st.stop()
    with picker:
        model_card(checkpoint)
    with intro:
        kind = get_kind(checkpoint.kind)
        st.markdown(f"- **{kind.title}:** {kind.summary}")
    return info, checkpoint


def lazy_tabs(page: str, tabs: dict[str, Callable], key: str, explorer) -> None:
    """The page's tabs, bound to the URL (?key=Name, so a lesson can link to one); only the open tab runs, under
    its "What am I looking at?". Data a tab needs and this machine lacks, or a ValueError, gets one sentence."""
    from genlab.ui.guide import guide  # the guide's texts load with the first page that shows one

    for tab, (name, render) in zip(st.tabs(list(tabs), key=key, bind="query-params"), tabs.items()):
        if tab.open:
            with tab:
                guide(page, name)
                try:
                    render(explorer)
                except (DatasetMissing, ValueError) as error:  # data this machine lacks, a setting it refuses
                    show_error(error)


@dataclass
class ChosenModel:
    """The checkpoint a page shows: its file and the loaded model. The explorers of the pages add what they need."""
    path: str
    checkpoint: LoadedCheckpoint

    @property
    def model(self):
        return self.checkpoint.model  # shared by every session, in eval mode: only read it

    @property
    def modified(self) -> float:
        """The file's version: part of every cache key, so a retrained file is computed anew."""
        return Path(self.path).stat().st_mtime
