"""Every tab and view has its "What am I looking at?" and the glossary holds the course's terms."""
from genlab.ui import autoregressive_explorer, diffusion_explorer, latent_explorer
from genlab.ui.guide import GLOSSARY, GUIDES


def test_every_tab_of_the_explorers_has_a_guide():
    for page, tabs in (("VAE explorer", latent_explorer.TABS), ("Autoregressive", autoregressive_explorer.TABS),
                       ("Diffusion", diffusion_explorer.TABS)):
        for tab in tabs:
            assert (page, tab) in GUIDES, (page, tab)
    for tab in ("Equation", "Interpolation", "Latent walk", "Saved equations"):
        assert ("GAN arithmetic", tab) in GUIDES
    for view in ("Playground", "Slow motion", "Minimax vs non-saturating", "Explicit vs implicit density"):
        assert ("GAN playground", view) in GUIDES
    assert all(like and try_ and notice for like, try_, notice in GUIDES.values())


def test_the_glossary_has_the_course_terms():
    for term in ("nat", "bits per dimension", "KL divergence", "prior", "posterior", "latent code", "ELBO", "FID",
                 "mode collapse"):
        assert term in GLOSSARY
