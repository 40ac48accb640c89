"""The shipped GANs beyond the DCGAN still meet their bars (a few hundred samples each; the closing note, the
README and benchmarks/gan_quality.py give the full-size figures): every one has an FID no worse than the DCGAN
of its dataset at the same N; a class-conditional one draws the class asked for; an InfoGAN's categorical code
still takes the digit classes."""
from pathlib import Path

import pytest

from genlab import checkpoints
from genlab.checkpoints import list_checkpoints
from genlab.data import dataset_available
from genlab.evaluation.class_agreement import code_class_agreement, conditional_sample_accuracy
from genlab.evaluation.compare import load_reference
from genlab.evaluation.metrics import extract_features, fid_from_features
from genlab.models import CODES, CONDITIONAL, GENERATOR, get_kind, kind_names_with
from genlab.models.loading import load_checkpoint

BASELINE = "dcgan.safetensors"  # the GAN each of them is measured against
SHIPPED = [info for info in list_checkpoints(kinds=kind_names_with(GENERATOR),
                                             folders=[(checkpoints.SHIPPED_DIR, "shipped")])
           if info.path.name != BASELINE]
N = 500
CLASS_BARS = {"digits": 0.95, "fashion-mnist": 0.85}  # share of conditional samples in the class asked for
CODE_BAR = 0.80  # InfoGAN: the categorical code agrees with the class (best one-to-one matching)


@pytest.mark.slow
@pytest.mark.parametrize("info", SHIPPED, ids=[f"{i.dataset}/{i.path.name}" for i in SHIPPED])
def test_no_worse_than_the_dcgan_and_the_class_or_code_holds(info):
    if not dataset_available(info.dataset):
        pytest.skip(f"{info.dataset} is not on this machine")
    reference = load_reference(info.dataset)
    model, kind = load_checkpoint(info.path).model, get_kind(info.kind)
    dcgan = load_checkpoint(Path(checkpoints.SHIPPED_DIR) / info.dataset / BASELINE).model
    fid = lambda m: fid_from_features(reference.test_features, extract_features(reference.classifier, m.sample(N, 0)))  # noqa: E731
    ours, theirs = fid(model), fid(dcgan)
    assert ours <= theirs, (ours, theirs)
    if kind.can(CONDITIONAL):
        accuracy = conditional_sample_accuracy(model, reference.classifier, N).accuracy
        assert accuracy >= CLASS_BARS[info.dataset], accuracy
    if kind.can(CODES):
        assert code_class_agreement(model, reference.classifier, N).accuracy >= CODE_BAR
