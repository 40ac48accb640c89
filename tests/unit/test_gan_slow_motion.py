"""GAN slow motion and the estimated theory beside it: the optimal discriminator and the Jensen-Shannon divergence
from kernel density estimates, and one training step split into four sub-steps."""
import torch

from genlab.playground.data import toy_dataset
from genlab.playground.divergence import jensen_shannon_bits, optimal_discriminator
from genlab.playground.gan import ToyGAN, ToyGANConfig
from genlab.playground.slow_motion import SUBSTEPS, SlowMotion


def blob(centre, n, seed):
    return torch.tensor(centre) + 0.2 * torch.randn(n, 2, generator=torch.Generator().manual_seed(seed))


def test_the_divergence_is_near_0_for_one_distribution_and_1_bit_for_disjoint_ones():
    same = jensen_shannon_bits(blob([0., 0.], 400, 0), blob([0., 0.], 400, 1), blob([0., 0.], 400, 2),
                               blob([0., 0.], 400, 3))
    apart = jensen_shannon_bits(blob([-2., 0.], 400, 0), blob([2., 0.], 400, 1), blob([-2., 0.], 400, 2),
                                blob([2., 0.], 400, 3))
    assert same < 0.05 and apart > 0.99


def test_the_optimal_discriminator_says_real_on_data_fake_on_fakes_and_half_where_neither_is():
    real, fake = blob([-2., 0.], 400, 0), blob([2., 0.], 400, 1)
    d = optimal_discriminator(real, fake, torch.tensor([[-2., 0.], [2., 0.], [0., 2.9]]))
    assert d[0] > 0.99 and d[1] < 0.01 and d[2] == 0.5


def test_four_sub_steps_make_one_training_step_and_the_divergence_is_recorded():
    gan = ToyGAN(toy_dataset("ring"), ToyGANConfig.tiny(seed=0))
    slow = SlowMotion(gan)
    assert slow.done is None
    seen = []
    for _ in SUBSTEPS:
        d_before = [p.clone() for p in gan.discriminator.parameters()]
        g_before = [p.clone() for p in gan.generator.parameters()]
        slow.advance()
        seen.append(slow.done.split(":")[0])
        d_moved = any(not torch.equal(a, b) for a, b in zip(d_before, gan.discriminator.parameters()))
        g_moved = any(not torch.equal(a, b) for a, b in zip(g_before, gan.generator.parameters()))
        assert (d_moved, g_moved) == {1: (False, False), 2: (True, False), 3: (False, False),
                                      4: (False, True)}[slow.phase]
    assert seen == list(SUBSTEPS)
    assert slow.numbers["d_after"] < slow.numbers["d_before"]  # D learned from this batch
    assert slow.push.shape == slow.fake.shape and not torch.equal(slow.moved, slow.fake)
    assert gan.step == 1 and 0 <= gan.history[-1]["jsd"] <= 1 and "modes" in gan.history[-1]
    slow.advance()  # a new step: a new batch
    assert slow.phase == 1 and slow.moved is None and gan.step == 1


def test_a_batch_drawn_before_the_gan_trained_elsewhere_is_stale():
    gan = ToyGAN(toy_dataset("ring"), ToyGANConfig.tiny(seed=0))
    slow = SlowMotion(gan)
    assert not slow.stale  # nothing drawn yet
    slow.advance()
    slow.advance()
    assert not slow.stale
    gan.train(5)  # Play in another view
    assert slow.stale
    fresh = SlowMotion(gan)
    for _ in SUBSTEPS:
        fresh.advance()
    assert not fresh.stale  # its own step moved the counter by one
