"""The shipped translators still translate (300 test items per direction; the README and
benchmarks/translation_quality.py give the figures on 1,000): with a cycle or reconstruction loss, a translation is
read as the target domain and keeps its content (the digit; the shape's position and size) a little under the
course's 90% bars; a CycleGAN trained without the cycle loss comes back from the round trip clearly worse than its
twin trained with it."""
import pytest

from genlab import checkpoints
from genlab.checkpoints import list_checkpoints
from genlab.data import dataset_available, drawn_in_domain, load_dataset
from genlab.evaluation.translation import judge_files, translation_figures
from genlab.models import TRANSLATOR, kind_names_with
from genlab.models.loading import load_checkpoint

SHIPPED = list_checkpoints(kinds=kind_names_with(TRANSLATOR), folders=[(checkpoints.SHIPPED_DIR, "shipped")])
N = 300
BAR = 0.85  # guards on 300 items, a little under the 90% the course asks of 1,000
# The tightest direction is the digits' StarGAN's thick -> thin: 90.3% in the target domain on 1,000 digits
# (README, "Unpaired translation"), 86.0% on the first 300, which this test reads.


def loaded(info):
    return load_checkpoint(info.path).model.float().eval() if info else None


def figures(path, source: int, target: int) -> dict:
    checkpoint = load_checkpoint(path)
    dataset = checkpoint.card["dataset"]
    items = drawn_in_domain(dataset, "test", source) or load_dataset(dataset, "test")
    domains, content = (loaded(info) for info in judge_files(dataset))
    return translation_figures(checkpoint.model.float().eval(), items, source, target, domains, content, n=N)


def round_trips(checkpoint) -> bool:
    """True when the model was trained with a cycle (CycleGAN) or reconstruction (StarGAN) loss."""
    config = checkpoint.model.config
    return getattr(config, "cycle_weight", 0) > 0 or getattr(config, "rec_weight", 0) > 0


def directions(info) -> list[tuple[int, int]]:
    domains = load_checkpoint(info.path).model.domains
    return [(s, t) for s in domains for t in domains if s != t]


CASES = [(info, s, t) for info in SHIPPED if round_trips(load_checkpoint(info.path)) for s, t in directions(info)]


@pytest.mark.slow
@pytest.mark.parametrize("info,source,target", CASES,
                         ids=[f"{i.dataset}/{i.path.stem}:{s}->{t}" for i, s, t in CASES])
def test_a_translation_reaches_the_target_domain_and_keeps_its_content(info, source, target):
    if not dataset_available(info.dataset):
        pytest.skip(f"{info.dataset} is not on this machine")
    found = figures(info.path, source, target)
    assert found["domain_accuracy"] >= BAR and found["content_kept"] >= BAR, found


WITHOUT = [info for info in SHIPPED if info.path.stem.endswith("-no-cycle")]


@pytest.mark.slow
@pytest.mark.parametrize("info", WITHOUT, ids=[f"{i.dataset}/{i.path.stem}" for i in WITHOUT])
def test_without_the_cycle_loss_the_round_trip_is_clearly_worse(info):
    if not dataset_available(info.dataset):
        pytest.skip(f"{info.dataset} is not on this machine")
    twin = info.path.with_name(info.path.name.replace("-no-cycle", ""))
    assert not round_trips(load_checkpoint(info.path)) and round_trips(load_checkpoint(twin))
    source, target = load_checkpoint(twin).model.domains
    without, with_cycle = figures(info.path, source, target), figures(twin, source, target)
    assert without["round_trip"] > 2 * with_cycle["round_trip"], (without, with_cycle)
