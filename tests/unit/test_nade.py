"""NADE: its O(DH) conditionals are the paper's formula, and they cost one pass."""
import torch

from genlab.models.autoregressive.nade import NADE, NADEConfig


def test_the_cumulative_sum_gives_the_papers_conditionals():
    torch.manual_seed(0)
    model = NADE(NADEConfig.tiny())
    with torch.no_grad():
        for p in model.parameters():
            p.normal_()  # weights of a trained size, not the small initial ones
    x = (torch.rand(3, 1, 8, 8) > 0.5).float()
    flat = x.view(3, -1)  # (N, D)
    expected = torch.empty(3, 64)
    for d in range(64):  # h_d = sigmoid(c + W[:, <d] x_<d); logit_d = b_d + V_d . h_d
        h = torch.sigmoid(model.c + flat[:, :d] @ model.W[:, :d].T)  # (N, H)
        expected[:, d] = model.b[d] + h @ model.V[d]
    assert torch.allclose(model.logits(x).view(3, -1), expected, atol=1e-4)


def test_the_likelihood_sums_to_one_over_every_image_of_a_small_grid():
    model = NADE(NADEConfig.tiny(image_size=3, hidden=4))
    with torch.no_grad():
        model.W.normal_()
    every = torch.tensor([[(i >> k) & 1 for k in range(9)] for i in range(2 ** 9)]).float().view(-1, 1, 3, 3)
    with torch.inference_mode():
        total = model.log_prob(every).exp().sum()
    assert abs(total.item() - 1) < 1e-4  # an exact, normalised distribution over all 512 images


def test_parameters_grow_as_two_d_h_not_two_to_the_d():
    model = NADE(NADEConfig(hidden=500))
    assert sum(p.numel() for p in model.parameters()) == 2 * 784 * 500 + 500 + 784
