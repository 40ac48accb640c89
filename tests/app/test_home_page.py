"""AppTest of the home page: it renders, lists the shipped checkpoints, the datasets and the device."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

from genlab import checkpoints
from genlab.checkpoints import list_checkpoints, save_checkpoint
from genlab.data import DATASETS
from genlab.device import describe_device, pick_device
from genlab.models.vae import VAE, VAEConfig

ROOT = Path(__file__).resolve().parents[2]


def open_home() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def table(at: AppTest, column: str) -> list:
    frame = next(df.value for df in at.dataframe if column in df.value.columns)
    return list(frame[column])


def test_home_lists_every_shipped_checkpoint_and_the_device():
    shipped = list_checkpoints(folders=[(checkpoints.SHIPPED_DIR, "shipped")])
    assert shipped, "no checkpoints were shipped in checkpoints/"
    at = open_home()
    models = table(at, "model")
    for info in shipped:
        assert info.card is not None, info.error
        assert info.card.get("title", info.path.stem) in models
    assert set(table(at, "source")) == {"shipped"}  # the user folder is empty in tests
    assert any(f"Running on **{describe_device(pick_device())}**" in c.value for c in at.caption)
    assert set(table(at, "name")) == set(DATASETS)


def test_home_shows_a_checkpoint_you_trained_and_a_damaged_one(user_checkpoint_dir):
    save_checkpoint(user_checkpoint_dir / "mine.safetensors", VAE(VAEConfig.tiny()), "vae",
                    {"dataset": "shapes", "title": "my tiny VAE"})
    (user_checkpoint_dir / "broken.safetensors").write_bytes(b"not a checkpoint")
    at = open_home()
    rows = dict(zip(table(at, "model"), table(at, "source")))
    assert rows["my tiny VAE"] == "yours" and rows["broken.safetensors"] == "yours"
    metric = dict(zip(table(at, "model"), table(at, "test −log p(x) per image")))["broken.safetensors"]
    assert metric.startswith("unreadable:")


def test_home_says_which_likelihoods_compare():
    at = open_home()
    cells = list(zip(table(at, "dataset"), table(at, "test −log p(x) per image"), table(at, "pixel values")))
    for dataset, nll, pixels in cells:
        if dataset == "binary-digits" and "nats" in nll:
            assert pixels == "black-and-white pixels (0 or 1)" and ("exact" in nll or "upper bound" in nll)
        if dataset == "fashion-mnist" and "training score" in nll:  # a VAE's Bernoulli decoder on grey levels
            assert nll.startswith("none") and pixels == "grey levels"
    assert any(d == "fashion-mnist" and "training score" in n for d, n, _ in cells)
    assert any(d == "fashion-mnist" and p == "256 grey levels" and "exact" in n for d, n, p in cells)


def test_home_links_the_latent_explorer():
    at = open_home()
    assert any("VAE explorer" in link.proto.label for link in at.get("page_link"))


def test_home_draws_the_taxonomy_of_the_families():
    at = open_home()
    [chart] = at.get("graphviz_chart")
    assert "Implicit density" in chart.proto.spec and "Explicit density" in chart.proto.spec
