"""AppTest of the VAE explorer: every tab's main controls work, with tiny checkpoints (and the shipped ones)."""
import io
from pathlib import Path

import pytest
import torch
from PIL import Image
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from genlab import checkpoints
from genlab.checkpoints import list_checkpoints, save_checkpoint
from genlab.data import DATASETS, dataset_available
from genlab.models import LATENT, kind_names_with
from genlab.models.vae import VAE, VAEConfig
from genlab.ui.latent_explorer import TABS

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "views" / "1_VAE_explorer.py")
SHIPPED_VAES = list_checkpoints(kinds=kind_names_with(LATENT), folders=[(checkpoints.SHIPPED_DIR, "shipped")])


@pytest.fixture
def tiny_vaes(tmp_path, monkeypatch, user_checkpoint_dir):
    """Two untrained tiny VAEs over `shapes` (always available): a 2-D one and a 5-D one; no shipped models."""
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", tmp_path / "no-shipped-models")
    torch.manual_seed(0)
    for latent in (2, 5):
        save_checkpoint(user_checkpoint_dir / f"tiny-{latent}d.safetensors", VAE(VAEConfig.tiny(latent_dim=latent)),
                        "vae", {"dataset": "shapes", "title": f"tiny {latent}-D"})


@pytest.fixture
def media(monkeypatch):
    """Bytes of every image and download the page makes, by the URL the page shows."""
    files = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def recording(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        files[file_id] = path_or_data
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", recording)
    return lambda url: files[url.rsplit("/", 1)[-1].split(".")[0]]


def open_page(tab: str | None = None, model: str | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=180)
    if tab:
        at.query_params["tab"] = tab
    at.run()
    assert not at.exception, at.exception
    if model:
        picker = at.selectbox(key="vae_model")
        index = next(i for i, label in enumerate(picker.options) if model in label)
        picker.set_value(index).run()
        assert not at.exception, at.exception
    return at


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def image_size(media, element) -> tuple[int, int]:
    return Image.open(io.BytesIO(media(element.value[0]))).size


def png_bytes(array) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_picker_lists_every_vae_and_the_tabs_are_all_there(tiny_vaes):
    at = open_page()
    assert [label.split(" (")[0] for label in at.selectbox(key="vae_model").options] == ["tiny 2-D", "tiny 5-D"]
    assert [tab.label for tab in at.tabs] == list(TABS)
    maths = next(m.value for m in at.markdown if "ELBO" in m.value)  # in the collapsed "The maths"
    assert "mu + sigma" in maths
    assert "not a generative model" in maths


def test_manifold_grid_size_and_range_change_the_figure(tiny_vaes, media):
    at = open_page("Manifold")
    assert at.slider(key="manifold_size").value == 15
    big = image_size(media, at.get("image")[0])
    at.slider(key="manifold_size").set_value(6)
    at.slider(key="manifold_span").set_value(4.0)
    run(at)
    small = image_size(media, at.get("image")[0])
    assert big[0] % 15 == 0 and small[0] % 6 == 0 and small != big  # one 28-pixel tile (scaled) per grid cell
    assert "from −4.0 to 4.0" in at.get("image")[0].captions[0]


def test_latent_pad_tab_mounts_the_component_and_its_controls(tiny_vaes):
    at = open_page("Latent pad")
    assert at.get("bidi_component"), "the latent pad component is not on the page"
    at.select_slider(key="pad_span").set_value(2.0)
    at.checkbox(key="pad_points").uncheck()
    run(at)
    assert any("Release the pointer" in c.value for c in at.caption)


def test_clicking_a_point_of_the_scatter_shows_that_image(tiny_vaes):
    at = open_page("Encoded test set")
    assert at.get("plotly_chart"), "no scatter plot"
    at.number_input(key="scatter_index").set_value(17)
    run(at)
    captions = [c for image in at.get("image") for c in image.captions]
    assert any(c.startswith("test image 17 (") for c in captions)
    assert "reconstruction: decode(mu)" in captions
    assert any("−ELBO" in m.value for m in at.markdown)


def test_sliders_move_and_reset(tiny_vaes):
    at = open_page("Sliders & traversals")
    assert [s.key for s in at.slider if s.key.startswith("slider_z")] != []
    at.slider(key="slider_z0").set_value(1.5)
    run(at)
    assert at.slider(key="slider_z0").value == 1.5
    at.button(key="sliders_reset").click()
    run(at)
    assert at.slider(key="slider_z0").value == 0.0
    at.slider(key="traversal_span").set_value(2.0)
    run(at)
    assert sum("traversal" not in c and "from −2.0 to 2.0" in c for img in at.get("image") for c in img.captions) == 2


def test_a_latent_above_two_gets_dimension_pickers_and_one_slider_per_dimension(tiny_vaes):
    at = open_page("Manifold", model="tiny 5-D")
    assert at.selectbox(key="manifold_dim_x") and at.selectbox(key="manifold_dim_y")
    at.selectbox(key="manifold_dim_y").set_value(at.selectbox(key="manifold_dim_x").value)
    at.run()
    assert not at.exception and "two different dimensions" in at.warning[0].value
    at.radio(key="manifold_base").set_value("a test image's code mu")
    run(at)
    at.number_input(key="manifold_base_index").set_value(3)
    run(at)
    at.query_params["tab"] = "Sliders & traversals"
    run(at)
    assert sorted(s.key for s in at.slider if s.key.startswith("slider_z")) == [f"slider_z{d}" for d in range(5)]
    strips = [c for img in at.get("image") for c in img.captions if c.startswith("z[")]
    assert len(strips) == 5


def test_interpolation_makes_a_strip_and_a_gif(tiny_vaes, media):
    at = open_page("Interpolation")
    at.radio(key="interp_method").set_value("lerp")
    at.slider(key="interp_steps").set_value(6)
    at.number_input(key="interp_b").set_value(5)
    run(at)
    strip = image_size(media, at.get("image")[0])
    assert strip[0] > 5 * strip[1]  # a long row: A, 6 steps, B
    gif = media(at.get("download_button")[0].proto.url)
    assert gif[:6] == b"GIF89a"
    animation = Image.open(io.BytesIO(gif))
    assert animation.size == (28 * 6, 28 * 6) and animation.n_frames > 1  # (Pillow merges identical frames)


def test_own_input_upload_of_a_picture_and_of_a_non_image(tiny_vaes):
    at = open_page("Your own input")
    assert at.get("bidi_component"), "the drawing canvas is not on the page"
    at.radio(key="own_source").set_value("Upload")
    run(at)
    at.file_uploader(key="own_upload").upload("notes.txt", b"this is not a picture", "text/plain")
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["That file is not an image that can be read (try a PNG or JPEG)."]
    picture = torch.zeros(40, 40, dtype=torch.uint8)
    picture[10:30, 18:22] = 255
    at.file_uploader(key="own_upload").clear().upload("one.png", png_bytes(picture.numpy()), "image/png")
    run(at)
    assert any("−ELBO" in m.value for m in at.markdown)


@pytest.mark.parametrize("info", SHIPPED_VAES, ids=[c.path.stem for c in SHIPPED_VAES])
def test_every_shipped_latent_model_opens_on_every_tab(info):
    if not dataset_available(info.dataset):
        pytest.skip(f"the {info.dataset} test images are not on this machine")
    at = open_page(model=f"{info.label} · {DATASETS[info.dataset].title}")
    for tab in TABS:
        at.query_params["tab"] = tab
        run(at)


def test_an_uploaded_checkpoint_is_checked_listed_and_selected(tiny_vaes, tmp_path):
    from genlab.models.dcgan import DCGAN, DCGANConfig
    torch.manual_seed(0)
    mine, gan = tmp_path / "mine.safetensors", tmp_path / "gan.safetensors"
    save_checkpoint(mine, VAE(VAEConfig.tiny(latent_dim=3)), "vae", {"dataset": "shapes", "title": "my upload"})
    save_checkpoint(gan, DCGAN(DCGANConfig(latent_dim=8, width=8)), "dcgan", {"dataset": "shapes"})
    at = open_page()
    uploader = at.file_uploader(key="vae_model_upload")
    uploader.upload("gan.safetensors", gan.read_bytes())
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["The uploaded file holds a dcgan model, but this page needs a model with "
                                           "an encoder and a decoder (a latent code)."]
    at.file_uploader(key="vae_model_upload").clear().upload("mine.safetensors", mine.read_bytes())
    run(at)
    picker = at.selectbox(key="vae_model")
    assert len(picker.options) == 3 and "my upload" in picker.format_func(picker.value)
    assert any("Checked and saved with your models" in s.value for s in at.success)


def test_the_elbo_gap_tab_plots_the_bound_for_k_up_to_1000_on_black_and_white_digits():
    if not any(str(c.path).endswith("vae-16d-binary.safetensors")
               for c in list_checkpoints(folders=[(checkpoints.SHIPPED_DIR, "shipped")])):
        pytest.skip("no shipped VAE of black-and-white digits")
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("views/1_VAE_explorer.py")
    at.query_params["tab"], at.query_params["model"] = "ELBO gap", "digits/vae-16d-binary"
    at.run()
    assert not at.exception and [c.key for c in at.get("plotly_chart")] == ["gap_plot"]
    assert any("KL(q(z|x) ‖ p(z|x)) is about" in c.value for c in at.caption)
