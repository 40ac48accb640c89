"""AppTest of the Translate page with tiny untrained translators on `shapes` (always available): every tab
renders, the domain pickers drive what is drawn, a drawing is translated; and every shipped translator opens."""
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from genlab import checkpoints
from genlab.checkpoints import list_checkpoints, save_checkpoint
from genlab.data import SHAPE_CLASSES, dataset_available
from genlab.models import TRANSLATOR, kind_names_with
from genlab.models.cyclegan import CycleGAN, CycleGANConfig
from genlab.models.stargan import StarGAN, StarGANConfig

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "views" / "9_Translate.py")
SHIPPED = list_checkpoints(kinds=kind_names_with(TRANSLATOR), folders=[(checkpoints.SHIPPED_DIR, "shipped")])
TABS = ["Translate", "Every domain", "Measured"]


@pytest.fixture
def tiny_translators(user_checkpoint_dir):
    """A tiny CycleGAN (square <-> circle) and a tiny StarGAN (three shapes), untrained, 'trained on' shapes."""
    torch.manual_seed(0)
    card = {"dataset": "shapes", "class_names": list(SHAPE_CLASSES)}
    save_checkpoint(user_checkpoint_dir / "cycle.safetensors", CycleGAN(CycleGANConfig.tiny()), "cyclegan",
                    {**card, "title": "tiny cycle"})
    save_checkpoint(user_checkpoint_dir / "star.safetensors", StarGAN(StarGANConfig.tiny()), "stargan",
                    {**card, "title": "tiny star"})


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def open_page(tab: str | None = None, model: str | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=300)
    if tab:
        at.query_params["tr_tab"] = tab
    at = run(at)
    if model:
        labels = at.selectbox(key="tr_model").options
        at.selectbox(key="tr_model").set_value(next(i for i, label in enumerate(labels) if label.startswith(model)))
        run(at)
    return at


def image_captions(at: AppTest) -> list[str]:
    return [picture.caption for image in at.get("image") for picture in image.proto.imgs]


def test_a_test_image_is_translated_and_brought_back(tiny_translators):
    at = open_page("Translate", "tiny cycle")
    assert at.selectbox(key="tr_source").options == ["square", "circle"]
    assert at.selectbox(key="tr_target").options == ["circle"]  # a CycleGAN knows its two domains only
    assert image_captions(at) == ["input (square)", "translated to circle", "and back to square",
                                  "difference |input − round trip|, 4× brighter"]
    assert any("reads as" in c.value and "centre (" in c.value for c in at.caption)  # classifier and moments
    at.selectbox(key="tr_source").set_value(1)
    run(at)
    assert image_captions(at)[:2] == ["input (circle)", "translated to square"]


def test_stargan_offers_every_other_domain_and_a_row_per_image(tiny_translators):
    at = open_page("Translate", "tiny star")
    assert at.selectbox(key="tr_target").options == ["circle", "triangle"]
    at.selectbox(key="tr_target").set_value(2)
    run(at)
    assert "translated to triangle" in image_captions(at)
    at = open_page("Every domain", "tiny star")
    assert any(c.startswith("Top row: eight test images of square. Each row below: the same images in square, "
                            "circle, triangle") for c in image_captions(at))


def test_the_measured_tab_grades_every_direction(tiny_translators):
    at = open_page("Measured", "tiny cycle")
    table = at.dataframe[0].value
    assert list(table["from → to"]) == ["square → circle", "circle → square"]
    assert {"in the target domain", "content kept", "round trip error"} <= set(table.columns)


def test_no_translator_gives_one_sentence(user_checkpoint_dir, monkeypatch, tmp_path):
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", tmp_path / "none")
    at = run(AppTest.from_file(PAGE, default_timeout=300))
    assert any("No model of an image-to-image translator" in w.value for w in at.warning)


@pytest.mark.skipif(not SHIPPED, reason="no shipped translator")
@pytest.mark.parametrize("tab", TABS)
@pytest.mark.parametrize("index", range(len(SHIPPED)))
def test_every_tab_opens_with_every_shipped_translator(tab, index):
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.query_params["tr_tab"] = tab
    run(at)
    at.selectbox(key="tr_model").set_value(index)
    run(at)
    if tab == "Translate":
        assert len(image_captions(at)) == 4


def test_the_terms_of_the_introduction_are_explained_beside_it(tiny_translators):
    at = open_page("Translate")
    tips = [m.proto.help for m in at.markdown if m.proto.help]
    assert any("**domain**:" in tip and "**cycle consistency**:" in tip for tip in tips), tips


def test_a_translator_of_unknown_data_or_absent_domains_gets_one_sentence(user_checkpoint_dir):
    torch.manual_seed(0)
    save_checkpoint(user_checkpoint_dir / "far.safetensors", CycleGAN(CycleGANConfig.tiny()), "cyclegan",
                    {"dataset": "horses", "title": "far away", "class_names": ["horse", "zebra"]})
    save_checkpoint(user_checkpoint_dir / "wide.safetensors", StarGAN(StarGANConfig.tiny(num_domains=5)),
                    "stargan", {"dataset": "shapes", "title": "too wide", "class_names": list(SHAPE_CLASSES)})
    at = open_page("Translate", "far away")
    assert any("'horses', a data set this server does not have" in w.value for w in at.warning)
    at = open_page("Translate", "too wide")  # domains 3 and 4 have no shapes: only the three that exist
    assert at.selectbox(key="tr_source").options == ["square", "circle", "triangle"]


@pytest.mark.skipif(not dataset_available("digits"), reason="../shared/data/mnist is not beside the project")
def test_domains_without_known_content_are_measured_without_a_content_column(user_checkpoint_dir):
    torch.manual_seed(0)
    save_checkpoint(user_checkpoint_dir / "three.safetensors", CycleGAN(CycleGANConfig.tiny(source=3, target=8)),
                    "cyclegan", {"dataset": "digits", "title": "threes to eights",
                                 "class_names": [str(d) for d in range(10)]})
    at = open_page("Measured", "threes to eights")
    table = at.dataframe[0].value
    assert list(table["from → to"]) == ["3 → 8", "8 → 3"] and set(table["content kept"]) == {"n/a"}
