"""The taxonomy picture places every generative kind (and every translator) under its branch and links it to its
page."""
from genlab.models import KINDS
from genlab.ui.taxonomy import on_the_tree, page_url, taxonomy_dot, unplaced


def test_every_generative_kind_has_a_branch_and_a_linked_leaf():
    kinds = list(KINDS.values())
    assert unplaced(kinds) == []
    dot = taxonomy_dot(kinds)
    for kind in kinds:
        if on_the_tree(kind):  # samplers and translators
            assert f'label="{kind.title}"' in dot, kind.name
            assert page_url(kind) and f'URL="{page_url(kind)}"' in dot, kind.name
        else:
            assert kind.title not in dot  # the metrics classifier is discriminative


def test_page_urls_are_the_navigation_paths():
    assert {page_url(k) for k in KINDS.values() if on_the_tree(k)} <= {
        "VAE_explorer", "GAN_arithmetic", "Autoregressive", "Diffusion", "Translate"}
