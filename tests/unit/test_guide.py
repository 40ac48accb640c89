"""Every tab and view has its "What am I looking at?", the glossary holds the course's terms, and a text that uses a
term gets the term's entry beside it."""
from genlab.ui import autoregressive_explorer, diffusion_explorer, latent_explorer, translate_explorer
from genlab.ui.guide import GLOSSARY, GUIDES, SPELLINGS, glossary_help, terms_in


def test_every_tab_of_the_explorers_has_a_guide():
    for page, tabs in (("VAE explorer", latent_explorer.TABS), ("Autoregressive", autoregressive_explorer.TABS),
                       ("Diffusion", diffusion_explorer.TABS), ("Translate", translate_explorer.TABS)):
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


def test_a_text_gets_the_entries_of_the_terms_it_uses_and_no_others():
    assert set(SPELLINGS) == set(GLOSSARY)  # every term can be found in a text
    text = "The ELBO is a bound in nats; KL measures how far q is from the prior. A kludge is no KL."
    assert terms_in(text) == ["nat", "KL divergence", "prior", "ELBO"]
    tip = glossary_help(text)
    assert tip.startswith("**nat**: ") and f"**ELBO**: {GLOSSARY['ELBO']}" in tip and "FID" not in tip
    assert terms_in("Priority, elbows, modes and domains-specific words") == []  # whole words only
    assert glossary_help("Nothing to explain here.") is None


def test_most_guides_explain_a_term_beside_them():
    explained = [key for key, texts in GUIDES.items() if terms_in(" ".join(texts))]
    assert len(explained) >= 10, explained
