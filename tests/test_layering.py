"""The floors of ../shared/DESIGN.md hold (scripts/check_layering.py), and the checker catches each kind of violation."""
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("check_layering", ROOT / "scripts" / "check_layering.py")
layering = importlib.util.module_from_spec(spec)
sys.modules["check_layering"] = layering  # dataclasses look their module up
spec.loader.exec_module(layering)
KINDS = layering.kind_names()


def test_the_tree_keeps_every_rule():
    assert layering.check_tree() == []


def problems_of(tmp_path, where: str, source: str) -> list[str]:
    """Feed the checker a file as if it stood at `where` in the tree."""
    path = tmp_path / Path(where).name
    path.write_text(source)
    return layering.check_file(path, KINDS, rel=Path(where))


@pytest.mark.parametrize("where, source, complaint", [
    ("genlab/models/fake.py", "from genlab.training.run import TrainingRun\n", "higher floor"),
    ("genlab/data.py", "import genlab.models\n", "higher floor"),
    ("genlab/explore/fake.py", "from genlab.ui.common import load_model\n", "higher floor"),
    ("genlab/explore/fake.py", "from genlab.evaluation import metrics\n", "sibling floor"),
    ("genlab/training/fake.py", "from ..playground import gan\n", "sibling floor"),
    ("genlab/evaluation/fake.py", "import streamlit as st\n", "Streamlit outside"),
    ("genlab/ui/fake.py", "kind = get_kind('vae')\n", "names the model kind 'vae'"),
    ("views/9_Fake.py", "from genlab.models.dcgan import DCGAN\n", "family module genlab.models.dcgan"),
    ("views/9_Fake.py", "from genlab.models import vae\n", "family module genlab.models.vae"),
    ("genlab/ui/fake.py", "from genlab.models.autoregressive.masks import gate\n", "family module"),
    ("genlab/__main__.py", "import streamlit\n", "Streamlit outside"),
])
def test_the_checker_reports_a_broken_rule(tmp_path, where, source, complaint):
    problems = problems_of(tmp_path, where, source)
    assert any(complaint in p for p in problems), problems


@pytest.mark.parametrize("where, source", [
    ("genlab/models/fake.py", "from genlab.data import ImageDataset\nkind = 'vae'\nimport torch\n"),
    ("genlab/ui/fake.py", "import streamlit as st\nfrom genlab.training.jobs import JobManager\n"),
    ("views/9_Fake.py", "from genlab.ui.common import checkpoint_picker\nfrom genlab.models import LATENT\n"),
    ("genlab/explore/fake.py", "from genlab.models.base import Model\nfrom . import latent\n"),
])
def test_the_checker_accepts_what_the_floors_allow(tmp_path, where, source):
    assert problems_of(tmp_path, where, source) == []


def test_the_checker_finds_an_import_circle(tmp_path, monkeypatch):
    package = tmp_path / "genlab"
    (package / "explore").mkdir(parents=True)
    (package / "explore" / "a.py").write_text("from genlab.explore import b\n")
    (package / "explore" / "b.py").write_text("from genlab.explore.a import thing\n")
    monkeypatch.setattr(layering, "ROOT", tmp_path)
    circles = layering.import_cycles(sorted(package.rglob("*.py")))
    assert circles == ["import circle: genlab.explore.a -> genlab.explore.b -> genlab.explore.a"]
