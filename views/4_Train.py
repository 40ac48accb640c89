"""Train a model live: pick a model, a dataset (or your own images) and a preset, press Start, and watch the
losses, the samples and (for a 2-D VAE) the latent space change while it trains. The run belongs to the
server, not to this browser tab: reloading, switching pages or a second browser only watch it."""
import dataclasses

import streamlit as st

from genlab.checkpoints import CheckpointError, read_card
from genlab.classroom import inert
from genlab.data import DATASETS, dataset_available
from genlab.images import grid
from genlab.models import LATENT, SAMPLES, TRANSLATOR, choices, kinds_with
from genlab.training.jobs import JobError, JobSpec
from genlab.ui.common import checkpoint_picker, device_badge
from genlab.ui.guide import guide
from genlab.ui.jobs import REFRESH_S, job_label, job_manager, live_job, this_server
from genlab.ui.roles import is_teacher, me
from genlab.ui.teacher_panel import teacher_panel
from genlab.ui.upload import checkpoint_uploader
from genlab.user_data import SIZES, UserDataError, register_zip

st.title("Train a model live")
st.write("Choose a model and a dataset, press **Start**, and watch the model go from noise to images. The run "
         "belongs to the server: reloading this page, visiting another page or opening it in a second browser "
         "only watches it, and everyone sees the same run.")
device_badge()
guide("Train")
manager = job_manager()
PRESETS = {"Quick demo: 1 minute": 1.0, "Better: 10 minutes": 10.0, "Custom": None}
GENERATIVE = sorted(kinds_with(SAMPLES) + kinds_with(TRANSLATOR), key=lambda k: (k.lesson, k.name))  # course order
KIND_CHOICES = {kind.name: kind for kind in GENERATIVE}  # every generative kind: samplers and translators


# Titles of config fields: a field's own metadata "title" first, else this table, else the field's name.
TITLES = {"hidden": "Hidden units", "output": "Output distribution", "first_kernel_size": "First layer's kernel size",
          "head_channels": "Output head's channels", "num_classes": "Classes", "label_dropout": "Share shown without "
          "a label", "mixtures": "Mixture components", "latent_dim": "Latent dimensions", "beta": "Beta (KL weight)",
          "loss": "Generator loss", "noise_anneal_steps": "Steps to fade the noise out", "width": "Width (channels)",
          "time_sampling": "How training picks t", "ema_decay": "Weight averaging (decay)"}


def config_widgets(kind_name: str, dataset: str | None) -> dict:
    """A widget for every config field with a help sentence, starting at the kind's `starts_with` value if it
    has one; returns the fields that differ from the config's defaults (so the run's command names them). A
    field marked "domain" picks one of the data set's classes by name; one marked "domain_count" starts at, and
    may not go under, the number of its classes."""
    changed, starts = {}, KIND_CHOICES[kind_name].starts_with  # the page's own starting values, if any
    domains = DATASETS[dataset].class_names if dataset else ()
    for f in dataclasses.fields(KIND_CHOICES[kind_name].config_cls):
        if "help" not in f.metadata:
            continue
        key, default = f"train_cfg_{kind_name}_{f.name}", starts.get(f.name, f.default)
        title = f.metadata.get("title") or TITLES.get(f.name, f.name.replace("_", " ").capitalize())
        if f.metadata.get("domain") and domains:  # a class of this data set, by name (keyed by it: a new list)
            value = st.selectbox(title, range(len(domains)), index=min(default, len(domains) - 1),
                                 format_func=lambda i: domains[i], key=f"{key}_{dataset}", help=f.metadata["help"])
        elif f.metadata.get("domain_count") and domains:
            value = int(st.number_input(title, min_value=len(domains), max_value=max(len(domains), default, 16),
                                        value=len(domains), step=1, key=f"{key}_{dataset}", help=f.metadata["help"]))
        elif choices(f):
            value = st.selectbox(title, choices(f), key=key, help=f.metadata["help"],
                                 index=choices(f).index(default))
        elif isinstance(default, bool):
            value = st.checkbox(title, default, key=key, help=f.metadata["help"])
        elif isinstance(default, int):
            value = int(st.number_input(title, value=default, step=1, key=key, help=f.metadata["help"]))
        elif isinstance(default, float):
            value = float(st.number_input(title, value=default, step=0.1, key=key, help=f.metadata["help"]))
        else:
            value = st.text_input(title, str(default), key=key, help=f.metadata["help"])
        if value != f.default:  # differs from the dataclass default: goes into the run's command
            changed[f.name] = value
    return changed


def run_length_widgets(batch_default: int, lr_default: float | None, lr_label: str) -> dict:
    preset = st.radio("Preset", list(PRESETS), key="train_preset", horizontal=True,
                      help="How long to train. A minute is enough for a VAE to draw recognisable clothes on a "
                           "laptop's CPU, and a DCGAN rough but recognisable ones; PixelCNNs and diffusion models need "
                           "longer runs.")
    minutes, epochs = PRESETS[preset], None
    if minutes is None:
        unit = st.radio("Train for", ["minutes", "epochs"], key="train_unit", horizontal=True,
                        help="An epoch is one pass over every training image.")
        if unit == "minutes":
            minutes = st.number_input("Minutes", 0.1, 240.0, 3.0, step=0.5, key="train_minutes",
                                      help="Training stops after this much time and saves a checkpoint.")
        else:
            epochs = st.number_input("Epochs", 0.1, 200.0, 1.0, step=0.5, key="train_epochs",
                                     help="Passes over the training set; fractions are allowed.")
    sizes = [16, 32, 64, 128, 256]
    batch_default = min(sizes, key=lambda b: abs(b - batch_default))  # a checkpoint's batch may be another size
    if st.session_state.get("train_batch_default") != batch_default:  # another model: its own default batch
        st.session_state["train_batch_default"] = st.session_state["train_batch"] = batch_default
    batch = st.select_slider("Batch size", sizes, key="train_batch",
                             help="Images per step: larger batches give smoother but fewer updates per second.")
    rates = sorted({1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3} | ({lr_default} if lr_default else set()))
    lr = st.selectbox("Learning rate", [0.0, *rates], key="train_lr",  # 0.0: the default (None reads as unset)
                      format_func=lambda r: lr_label if r == 0.0 else f"{r:g}",
                      help="How big each optimiser step is: too small learns slowly, too large diverges (NaN).")
    return {"minutes": minutes, "epochs": epochs, "batch_size": int(batch), "lr": lr or None}


def own_images() -> str | None:
    """The zip uploader: returns the registered dataset name of a good archive."""
    with st.expander("Use your own images (a zip of PNG or JPEG files)"):
        upload = st.file_uploader("Zip archive", type=["zip"], key="train_zip",
                                  help="Subfolders become classes. At most 20,000 images and 200 MB.")
        left, right = st.columns(2)
        size = left.radio("Resize to", SIZES, key="train_zip_size", horizontal=True,
                          format_func=lambda s: f"{s}x{s}", help="Images are centre-cropped to a square first.")
        colour = right.radio("Colour", ["auto", "grayscale", "colour"], key="train_zip_colour", horizontal=True,
                             help="Auto keeps colour only if some image has it; grayscale trains faster.")
        if upload is None:
            return None
        try:
            with st.spinner("Reading the images…"):
                images = register_zip(upload.getvalue(), upload.name, size,
                                      {"auto": None, "grayscale": 1, "colour": 3}[colour],
                                      owner=None if is_teacher() else me())  # a student's: theirs until shared
        except UserDataError as e:
            st.error(str(e))
            return None
        st.success(inert(images.report.summary(), 300))
        st.image(grid(images.preview, nrow=8, scale=2), caption=f"{inert(images.title)}: a preview.")
        return images.dataset_name


def start(spec: JobSpec) -> None:
    try:
        job = manager.submit(spec, owner=me())
    except JobError as e:
        st.error(str(e))
        return
    st.session_state["train_job_pick"] = job.id  # the live view below shows the new run
    if job.state == "queued":
        st.info(manager.view(job.id).queue_message)


settings_col, live_col = st.columns([1, 2], gap="large")
with settings_col:
    quick = next((i for i, k in enumerate(KIND_CHOICES.values())  # a minute is enough, and it reports a bound
                  if k.can(LATENT) and k.reports_likelihood), 0)
    kind_name = st.selectbox("Model", list(KIND_CHOICES), format_func=lambda n: KIND_CHOICES[n].title, index=quick,
                             key="train_kind", help="Each model family learns p(x) (or a sampler) differently.")
    st.caption(f"{KIND_CHOICES[kind_name].summary} ({KIND_CHOICES[kind_name].paper})")
    resume = st.radio("Start from", ["a new model", "a checkpoint"], key="train_mode", horizontal=True,
                      help="A checkpoint continues where it stopped: same weights, optimiser state and step count.")
    if resume == "a new model":
        uploaded = own_images()
        if uploaded and st.session_state.get("train_uploaded") != uploaded:
            st.session_state["train_uploaded"] = st.session_state["train_dataset"] = uploaded
        names = [n for n in DATASETS if DATASETS[n].owner in (None, me()) or is_teacher()]  # others' uploads: theirs
        names = [n for n in names if dataset_available(n)]
        wanted = KIND_CHOICES[kind_name].starts_with.get("dataset")  # a translator starts on domains made for it
        if st.session_state.get("train_dataset_kind") != kind_name and wanted in names:
            st.session_state["train_dataset"] = wanted
        st.session_state["train_dataset_kind"] = kind_name
        dataset = st.selectbox("Dataset", names, format_func=lambda n: DATASETS[n].title[:80], key="train_dataset",
                               help="The images the model learns to imitate; a translator's domains are its "
                                    "classes.")
        if dataset:
            st.caption(inert(DATASETS[dataset].description, 300))
        config = config_widgets(kind_name, dataset)
        kind = KIND_CHOICES[kind_name]
        lr = kind.starts_with.get("lr", kind.default_lr)
        run = run_length_widgets(kind.starts_with.get("batch_size", kind.default_batch_size), lr,
                                 f"the model's default ({lr:g})" if lr else "the model's default")
        run["lr"] = run["lr"] or kind.starts_with.get("lr")  # "the default" here is the page's starting rate
        if not is_teacher():
            caps = manager.caps
            st.caption(f"Students may start one run at a time, of at most {caps.minutes:g} minutes and "
                       f"{caps.parameters:,} weights." if caps.training else
                       "The teacher has turned training off for now; you can still watch the runs.")
        if st.button("Start", key="train_start", type="primary", disabled=not dataset):
            start(JobSpec(kind=kind_name, dataset=dataset, config=config, **run))
    else:
        path = checkpoint_uploader(key="train_resume_upload", kind=kind_name,
                                   label="Upload a checkpoint to continue (.safetensors)")
        if path is None:
            picked = checkpoint_picker(None, kind=kind_name, key="train_resume_pick", upload=False,
                                       help="Shipped checkpoints and yours; a copy continues, the file stays.")
            path = picked.path if picked else None
        try:
            card = read_card(path) if path is not None else None
        except CheckpointError as e:  # deleted or damaged since the list was made
            st.error(str(e))
            card = None
        if card is not None:
            st.caption(f"Continues {inert(card.get('title', path.stem))} on {inert(card.get('dataset'))} from "
                       f"step "
                       f"{card.get('steps', 0):,} (saved as a new file).")
            run = run_length_widgets(int(card.get("batch_size", 128)), None, "the checkpoint's")
            if st.button("Continue training", key="train_resume", type="primary"):
                start(JobSpec(kind=kind_name, dataset=card.get("dataset", ""), resume_from=str(path), **run))


def live_view(job_id: int, was_active: bool) -> None:
    view = live_job(manager, job_id)
    if was_active and view is not None and not view.active:
        st.rerun()  # a full rerun turns the automatic refresh off


with live_col:
    jobs = [job.view() for job in manager.jobs()]
    server = this_server()
    if server:  # one of several replicas (scripts/replicas.py): say what is shared and what is not
        st.caption(f"This server: {server}. Runs in progress belong to this replica; the models they save are "
                   "listed on every replica.")
    if not jobs:
        st.info("No run yet on this server. Choose a preset on the left and press Start.")
    else:
        states = [view.state for view in jobs]
        st.caption(f"On this server: {states.count('running') + states.count('stopping')} training, "
                   f"{states.count('queued')} waiting, {sum(not view.active for view in jobs)} finished "
                   f"(at most {manager.max_running} train at a time).")
        ids = [view.id for view in jobs]
        asked = st.query_params.get("job")
        if st.session_state.get("train_job_pick") not in ids:  # a fresh tab: the URL's job, else the live one
            active = [view.id for view in jobs if view.active]
            st.session_state["train_job_pick"] = int(asked) if asked and asked.isdigit() and int(asked) in ids \
                else (active[0] if active else ids[0])
        labels = {view.id: job_label(view) for view in jobs}
        job_id = st.selectbox("Run", ids, format_func=labels.get, key="train_job_pick",
                              help="Every run on this server, newest first: anyone's run can be watched here.")
        st.query_params["job"] = str(job_id)  # a reload comes back to this run
        is_active = next(view.active for view in jobs if view.id == job_id)
        st.fragment(run_every=REFRESH_S if is_active else None)(live_view)(job_id, is_active)

if is_teacher():
    teacher_panel(manager)
