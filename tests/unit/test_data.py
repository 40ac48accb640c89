import gzip

import numpy as np
import pytest
import torch

from genlab import data
from genlab.data import DATASETS, DatasetMissing, load_dataset, read_idx


def write_idx(path, array: np.ndarray, gz: bool = False):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    if gz:
        raw = gzip.compress(raw)
    path.write_bytes(raw)


def make_idx_folder(folder, n=12, prefix="train", gz=True):
    folder.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    images = np.arange(n * 28 * 28).reshape(n, 28, 28) % 256
    write_idx(folder / f"{prefix}-images-idx3-ubyte{ext}", images, gz)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte{ext}", np.arange(n) % 10, gz)
    return images


def test_registry_has_the_foundation_datasets():
    assert {"fashion-mnist", "mnist", "digits", "shapes"} <= set(DATASETS)


@pytest.mark.parametrize("gz", [True, False])
def test_idx_files_load_from_an_explicit_folder_in_unit_range(tmp_path, gz):
    images = make_idx_folder(tmp_path / f"fm{gz}", gz=gz)
    ds = load_dataset("fashion-mnist", "train", root=tmp_path / f"fm{gz}")
    assert ds.images.shape == (12, 1, 28, 28) and ds.images.dtype == torch.float32
    assert 0 <= ds.images.min() and ds.images.max() <= 1
    assert torch.allclose(ds.images[3, 0] * 255, torch.from_numpy(images[3]).float())
    assert ds.labels.tolist() == [i % 10 for i in range(12)]
    assert ds.class_names[0] == "T-shirt/top"


def test_truncated_idx_file_is_refused(tmp_path):
    path = tmp_path / "x-images-idx3-ubyte"
    write_idx(path, np.zeros((4, 28, 28)))
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DatasetMissing, match="truncated"):
        read_idx(path)


def test_missing_dataset_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "search_dirs", lambda name, explicit=None: [tmp_path / "nothing-here"])
    with pytest.raises(DatasetMissing, match="apt-get install dataset-fashion-mnist"):
        load_dataset("fashion-mnist", "test", root=tmp_path / "nothing-here")


def test_unknown_dataset_and_split_are_clear_errors():
    with pytest.raises(ValueError, match="Known datasets"):
        load_dataset("cifar-1000")
    with pytest.raises(ValueError, match="split"):
        load_dataset("shapes", "validation")


def test_shapes_are_procedural_deterministic_and_carry_factors():
    a, b = load_dataset("shapes", "test"), data._load_shapes("test", None)
    assert a.images.shape == (2000, 1, 28, 28)
    assert torch.equal(a.images, b.images)  # same seed, same pictures
    assert a.factors.shape == (2000, 5) and a.factor_names == ["shape", "scale", "rotation", "x", "y"]
    assert set(a.labels.tolist()) == {0, 1, 2}
    assert 0 <= a.images.min() and a.images.max() <= 1
    # Bigger shapes cover more pixels: the scale factor is really in the picture.
    area = a.images.sum((1, 2, 3))
    square = a.labels == 0
    corr = np.corrcoef(a.factors[square, 1].numpy() ** 2, area[square].numpy())[0, 1]
    assert corr > 0.95


def test_shapes_image_centre_follows_the_x_factor():
    factors = torch.tensor([[1, 5.0, 0, 8.0, 14.0], [1, 5.0, 0, 20.0, 14.0]])
    img = data.draw_shapes(factors)[:, 0]  # (2, 28, 28)
    cols = torch.arange(28).float() + 0.5
    centre_x = (img.sum(1) * cols).sum(1) / img.sum((1, 2))
    assert torch.allclose(centre_x, torch.tensor([8.0, 20.0]), atol=0.3)


@pytest.mark.skipif(not data.dataset_available("fashion-mnist"), reason="Fashion-MNIST not installed "
                    "(apt-get install dataset-fashion-mnist)")
def test_real_fashion_mnist():
    train, test = load_dataset("fashion-mnist", "train"), load_dataset("fashion-mnist", "test")
    assert len(train) == 60000 and len(test) == 10000
    assert train.images.shape[1:] == (1, 28, 28) and float(train.images.max()) == 1.0
    assert sorted(set(test.labels.tolist())) == list(range(10))


@pytest.mark.skipif(not data.dataset_available("digits"), reason="../shared/data/mnist is not beside the project")
def test_digits_split_the_mnist_test_file_9000_1000():
    train, test = load_dataset("digits", "train"), load_dataset("digits", "test")
    full = load_dataset("mnist", "test")
    assert len(train) == 9000 and len(test) == 1000
    assert torch.equal(test.images, full.images[9000:])
    assert "last 1,000" in test.source


def test_binary_digits_are_one_fixed_random_binarization_of_the_digits():
    from genlab.data import dataset_available

    if not dataset_available("digits"):
        pytest.skip("the MNIST test file is not in ../shared/data/mnist")
    grey, binary = load_dataset("digits", "test"), load_dataset("binary-digits", "test")
    assert torch.equal(binary.labels, grey.labels)
    assert set(binary.images.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(binary.images, load_dataset("binary-digits", "test").images)  # the same every time
    # a pixel is white with probability its grey level: the share of white tracks the mean grey level
    assert abs(binary.images.mean().item() - grey.images.mean().item()) < 0.005
    assert "seed 1" in binary.source
