"""The parameter counts of densities over binary pixels, and real models' counts beside them."""
import pytest

from genlab.models.autoregressive.nade import NADE, NADEConfig
from genlab.models.autoregressive.parameter_counts import atoms_comparison, binary_density_counts, readable_count


def test_the_counts_of_each_rule():
    assert binary_density_counts(1) == {"full joint table": 1, "independent pixels": 1, "first-order Markov chain": 1}
    assert binary_density_counts(3) == {"full joint table": 7, "independent pixels": 3, "first-order Markov chain": 5}
    assert len(str(binary_density_counts(784)["full joint table"])) == 237  # 2^784 - 1 has 237 digits
    with pytest.raises(ValueError):
        binary_density_counts(0)


def test_huge_counts_read_as_powers_of_ten():
    assert readable_count(143_713) == "143,713"
    assert readable_count(2 ** 784 - 1) == "≈ 1.01 × 10^236"
    assert atoms_comparison(10 ** 6) == ""
    assert "10^156" in atoms_comparison(2 ** 784 - 1)


def test_nade_sits_between_the_markov_chain_and_the_table():
    counts = binary_density_counts(784)
    nade = sum(p.numel() for p in NADE(NADEConfig(hidden=500)).parameters())
    assert counts["first-order Markov chain"] < nade < counts["full joint table"]
