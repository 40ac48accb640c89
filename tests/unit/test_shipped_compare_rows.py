"""The Compare page opens at once with the shipped checkpoints: their rows at the default settings ship in
checkpoints/compare/. A retrained checkpoint changes its key, so this fails until its row is made again with
`python -m genlab eval --all --dataset NAME --ship`."""
import json

import pytest

from genlab import checkpoints
from genlab.checkpoints import list_checkpoints
from genlab.evaluation import compare
from genlab.evaluation.compare import (CompareSettings, cached_row, cached_rows, ship_row, shipped_row_keys,
                                       stale_shipped_rows)
from genlab.models import SAMPLES, kind_names_with


def test_every_shipped_generative_checkpoint_has_its_row():
    wanted = shipped_row_keys()
    assert wanted, "no shipped generative checkpoint found"
    missing = [what for key, what in wanted.items() if not (compare.shipped_rows_dir() / f"{key}.json").exists()]
    assert not missing, f"make these rows with `python -m genlab eval --all --dataset NAME --ship`: {missing}"


def test_no_stale_rows_ship():
    assert stale_shipped_rows() == []


SHIPPED = list_checkpoints(kinds=kind_names_with(SAMPLES), folders=[(checkpoints.SHIPPED_DIR, "shipped")])


@pytest.mark.parametrize("dataset", sorted({info.dataset for info in SHIPPED
                                            if info.card and compare.metrics_classifier(info.dataset)}))
def test_the_page_finds_every_row_without_computing(dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_CACHE_DIR", str(tmp_path / "empty-cache"))
    shipped = [c.path for c in SHIPPED if c.card and c.dataset == dataset]
    rows = cached_rows(dataset, shipped, CompareSettings())
    assert rows is not None
    assert rows[0]["kind"] == "real" and rows[-1]["kind"] == "noise"
    assert all(row["samples"] >= 1000 and row["grid_png"] for row in rows)


def test_a_shipped_row_is_read_when_the_cache_has_none_and_its_path_is_relative(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GENLAB_SHIPPED_ROWS", str(tmp_path / "shipped"))
    assert cached_row("abc") is None
    ship_row("abc", {"name": "m", "path": str(compare.genlab.ROOT / "checkpoints" / "x.safetensors")})
    row = cached_row("abc")
    assert row["name"] == "m" and row["path"] == "checkpoints/x.safetensors"
    (tmp_path / "cache" / "metrics").mkdir(parents=True)
    (tmp_path / "cache" / "metrics" / "abc.json").write_text(json.dumps({"name": "computed here"}))
    assert cached_row("abc")["name"] == "computed here"  # this machine's own figure comes first
