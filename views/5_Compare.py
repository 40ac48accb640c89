"""Compare the model families side by side: samples from the same seed, likelihoods and sample-quality metrics."""
import base64

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from genlab.checkpoints import CheckpointError
from genlab.classroom import inert
from genlab.data import DATASETS, DatasetMissing
from genlab.evaluation.compare import (METRIC_INFO, CompareSettings, cached_row, cached_rows, checkpoint_row,
                                       checkpoint_row_key, format_value, generative_checkpoints, load_reference,
                                       noise_row, real_data_row)
from genlab.ui.busy import take_turn
from genlab.ui.common import device, device_badge
from genlab.ui.guide import guide
from genlab.ui.roles import my_private_folder

st.title("Compare the model families")
st.write(
    "Which is better, and in what way? **Autoregressive** models (PixelCNN) compute p(x) exactly but sample one "
    "pixel at a time. **VAEs** optimise a lower bound on log p(x) and have an encoder, but their samples are "
    "blurry. **GANs** only learn to sample: sharp images, no density to evaluate, and they can miss modes. "
    "**Diffusion and flow models** sample in tens of denoising steps and give sharp, varied images. The same "
    "seed, the same data and the same metrics make the trade-offs measurable."
)
device_badge()
guide("Compare")


@st.cache_resource(show_spinner="Extracting features of the real test images…", max_entries=4)
def reference_for(dataset: str):
    return load_reference(dataset, device())


choices = [name for name in DATASETS if generative_checkpoints(name, my_private_folder())]
if not choices:
    st.warning("No trained generative model was found for any dataset. Train one on the Train page.")
    st.stop()
dataset = st.selectbox("Dataset", choices, format_func=lambda n: DATASETS[n].title, key="compare_dataset",
                       bind="query-params", help="Every checkpoint trained on this dataset, shipped or yours, becomes a column.")
left, middle, right = st.columns(3)
samples = left.number_input("Samples per model", 100, 20000, 5000, step=500, key="compare_samples",
                            help="VAEs and GANs draw an image in one network pass. More samples make every "
                                 "figure steadier; the FID to compare across columns uses the same N for all.")
samples_ar = middle.number_input("Samples per pixel-by-pixel model", 50, 5000, 1000, step=100,
                                 key="compare_samples_ar",
                                 help="Fewer, for models that draw a sample in many steps: one pixel at a time, in "
                                      "order (autoregressive), or tens of denoising steps (diffusion, flow). "
                                      "\"FID, same N\" uses this N for every column.")
iwae_k = right.number_input("IWAE importance samples k", 1, 1000, 64, key="compare_iwae_k",
                            help="k = 1 is the ELBO; larger k gives a tighter bound on log p(x) for the VAE.")
settings = CompareSettings(samples=int(samples), samples_autoregressive=int(samples_ar), iwae_k=int(iwae_k))

st.caption(
    "Quality metrics compare generated and real test images in the feature space of a small classifier trained "
    "on this dataset, not the usual Inception-v3: features learned on 299x299 colour photos describe 28x28 grey "
    "images poorly (and genlab runs offline, without Inception's weights). Figures are comparable with each other, "
    "not with published Inception FIDs."
)

checkpoints = generative_checkpoints(dataset, my_private_folder())
rows = cached_rows(dataset, [c.path for c in checkpoints], settings)  # shipped or computed before: shown at once
if rows is None:
    try:
        reference = reference_for(dataset)
    except (CheckpointError, DatasetMissing, ValueError) as error:
        st.error(str(error))
        st.stop()
    missing = [c for c in checkpoints if cached_row(checkpoint_row_key(c.path, dataset, settings)) is None]
    if not st.button("Compute the metrics", key="compare_compute", type="primary",
                     help="Samples every model and scores the samples; results are kept, so the next visit with "
                          "the same settings is instant."):
        st.info(f"{len(missing)} of the {len(checkpoints)} model(s) for {inert(DATASETS[dataset].title)} have no "
                "metrics at these settings yet (the shipped models' come with the app at the default settings). "
                "On a CPU each takes a minute or more, a pixel-by-pixel or diffusion model several; afterwards "
                "they are shown at once.")
        st.stop()
    try:
        with take_turn("metrics", "model metrics"):  # a second student waits, then reads the cache
            bar = st.progress(0.0, text="Computing metrics (cached afterwards)…")
            rows = [real_data_row(reference, settings)]
            for i, info in enumerate(checkpoints):
                def report(fraction, message, i=i, name=info.label):
                    bar.progress((i + fraction) / len(checkpoints), text=f"{name}: {message}")
                rows.append(checkpoint_row(info.path, reference, settings, device(), progress=report))
            rows.append(noise_row(reference, settings))
            bar.empty()
    except (CheckpointError, DatasetMissing, ValueError) as error:
        st.error(str(error))
        st.stop()

st.subheader("Samples (same seed for every model)")
columns = st.columns(len(rows))
for column, row in zip(columns, rows):
    column.markdown(f"**{row['name']}**  \n*{row['family']}*")
    column.image(base64.b64decode(row["grid_png"]), width="stretch")

st.subheader("Metrics")
table = [{"metric": "samples (N)", "better": "-", **{r["name"]: format_value("samples", r["samples"]) for r in rows}}]
for name, (meaning, better) in METRIC_INFO.items():
    table.append({"metric": name, "better": better, **{r["name"]: format_value(name, r.get(name)) for r in rows}})
table.append({"metric": "likelihood", "better": "-", **{r["name"]: r.get("likelihood", "-") for r in rows}})
table.append({"metric": "pixel values", "better": "-", **{r["name"]: r.get("discretisation", "-") for r in rows}})
st.dataframe(table, hide_index=True, width="stretch")
with st.expander("What each metric means"):
    for name, (meaning, better) in METRIC_INFO.items():
        st.markdown(f"- **{name}** ({better} is better): {meaning}")
st.caption("Why can pure noise score a higher precision than real data? The classifier maps noise images to a "
           "small cloud of features, and that cloud lies inside the wide neighbourhoods of a few outlying real "
           "images (9 of 5,000 on Fashion-MNIST), so most noise samples count as realistic. Its recall, FID and "
           "class entropy give it away: read precision with recall, never alone.")

charted = [name for name in METRIC_INFO if name != "FID"  # its N differs between columns: "FID, same N" is charted
           and any(isinstance(r.get(name), (int, float)) for r in rows)]
figure = make_subplots(rows=(len(charted) + 2) // 3, cols=3, subplot_titles=charted)
for index, name in enumerate(charted):
    present = [r for r in rows if isinstance(r.get(name), (int, float))]
    figure.add_trace(go.Bar(x=[r["name"] for r in present], y=[r[name] for r in present], showlegend=False),
                     row=index // 3 + 1, col=index % 3 + 1)
figure.update_layout(height=300 * ((len(charted) + 2) // 3), margin=dict(t=40, b=10))
st.plotly_chart(figure, key="compare_bars")

st.subheader("Mode coverage: predicted classes of the samples")
class_names = DATASETS[dataset].class_names
coverage = go.Figure([go.Bar(name=r["name"], x=list(class_names), y=r["class counts"]) for r in rows])
coverage.update_layout(barmode="group", height=350, margin=dict(t=10, b=10))
st.plotly_chart(coverage, key="compare_coverage")
st.caption("A model that covers the data spreads its samples over every class like the real data; a collapsed "
           "one piles them into a few.")
