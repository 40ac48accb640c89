"""PixelRNN: the skew trick, strict causality of both variants, the context each one sees, and their samplers."""
import pytest
import torch

from genlab.models.autoregressive.pixelrnn import PixelRNN, PixelRNNConfig, skew, unskew
from genlab.models.autoregressive.receptive_field import receptive_field
from genlab.models.autoregressive.sampling import fast_sample, hide_mask, naive_sample


def test_skew_turns_diagonals_into_columns_and_unskew_undoes_it():
    x = torch.arange(12.0).view(1, 1, 3, 4)
    skewed = skew(x)  # (1, 1, 3, 6)
    assert skewed.shape == (1, 1, 3, 6)
    assert skewed[0, 0, :, 2].tolist() == [2.0, 5.0, 8.0]  # (0, 2), (1, 1), (2, 0): one anti-diagonal
    assert torch.equal(unskew(skewed, 4), x)


def earlier(size: int, row: int, col: int) -> torch.Tensor:
    return (torch.arange(size * size) < row * size + col).view(size, size)


@pytest.mark.parametrize("variant", ["row", "diagonal"])
def test_every_pixel_sees_only_earlier_pixels(variant):
    torch.manual_seed(0)
    model = PixelRNN(PixelRNNConfig.tiny(variant=variant, image_size=6, layers=2)).eval()
    for row in range(6):
        for col in range(6):
            seen = receptive_field(model, row, col)
            assert not (seen & ~earlier(6, row, col)).any(), (variant, row, col)


def test_the_diagonal_bilstm_sees_the_whole_past_but_one_pixel_and_the_row_lstm_a_triangle():
    size, row, col = 8, 6, 1
    torch.manual_seed(0)
    diagonal = PixelRNN(PixelRNNConfig.tiny(variant="diagonal", image_size=size, layers=2)).eval()
    missed = earlier(size, row, col) & ~receptive_field(diagonal, row, col)
    # The last pixel of the row above enters only the features of pixels after it, and its own row has none:
    # the right-to-left LSTM, shifted down a row, cannot carry it.
    assert missed.nonzero().tolist() == [[row - 1, size - 1]]
    row_lstm = PixelRNN(PixelRNNConfig.tiny(variant="row", image_size=size, first_kernel_size=3)).eval()
    seen = receptive_field(row_lstm, row, col)
    assert seen[row - 1, col] and seen[0, col]  # straight up, all the way
    assert not seen[row - 1, size - 1]  # far right in the row above: outside the triangle
    far = PixelRNN(PixelRNNConfig.tiny(variant="row", image_size=size, first_kernel_size=3)).eval()
    assert not receptive_field(far, row, 7)[row, 0]  # seven pixels to the left in its own row: out of reach


@pytest.mark.parametrize("variant", ["row", "diagonal"])
def test_a_class_changes_the_conditionals(variant):
    torch.manual_seed(0)
    model = PixelRNN(PixelRNNConfig.tiny(variant=variant, num_classes=3)).eval()
    with torch.no_grad():
        for lstm in model.lstms:
            for embedding in [m for m in lstm.modules() if isinstance(m, torch.nn.Embedding)]:
                embedding.weight.normal_()
    x = torch.zeros(2, 1, 8, 8)
    with torch.inference_mode():
        assert not torch.allclose(model.logits(x, 0), model.logits(x, 2))


@pytest.mark.parametrize("variant", ["row", "diagonal"])
def test_both_fast_samplers_give_the_naive_logits_for_samples_and_completions(variant):
    torch.manual_seed(0)
    model = PixelRNN(PixelRNNConfig.tiny(variant=variant, layers=2, num_classes=3)).eval()
    known = hide_mask("rectangle", 8, (3, 6), (2, 5))
    for kwargs in [dict(label=[0, 1, 2]), dict(partial=torch.rand(1, 1, 8, 8), known=known, label=1, guidance=1.0)]:
        naive = naive_sample(model, 3, generator=4, keep_logits=True, **kwargs)
        fast = fast_sample(model, 3, generator=4, keep_logits=True, **kwargs)
        drawn = ~torch.isnan(naive.logits)
        assert torch.allclose(naive.logits[drawn], fast.logits[drawn], atol=1e-5)
        assert torch.equal(naive.images, fast.images)
