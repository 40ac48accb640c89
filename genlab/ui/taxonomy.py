"""The course's taxonomy of generative models as a picture (after Goodfellow's tree, NIPS 2016 tutorial, figure 9):
every registered kind placed by its `family`, each linked to the page that explores it. Diffusion and flows came
after the tree and get their own branch.
"""
from __future__ import annotations

from genlab.models import SAMPLES, TRANSLATOR, ModelKind
from genlab.ui.pages import PAGES, explorer_for

BRANCHES = [  # (the start of a kind's family, the branch's words)
    ("explicit density, tractable", "Tractable:\nexact log p(x)"),
    ("explicit density, approximate", "Approximate:\na bound on log p(x)"),
    ("implicit density", "Implicit density:\na sampler, no p(x) written down"),
    ("diffusion and flows", "Diffusion and flows:\nnoise to image in many steps"),
    ("not a generative model", "For contrast, not generative:\ncodes without a prior"),  # outside the tree
]

PLAYGROUND = next(page for page in PAGES if page.file == "views/6_GAN_playground.py")
MIXTURE_URL = f"{PLAYGROUND.url_path}?gp_view=Explicit+vs+implicit+density"  # the playground's mixture view


def on_the_tree(kind: ModelKind) -> bool:
    """Models of images: samplers, and translators (adversarial, so implicit: G's outputs have no written density)."""
    return kind.can(SAMPLES) or kind.can(TRANSLATOR)


def quoted(text: str) -> str:
    return '"' + text.replace('"', "'").replace("\n", "\\n") + '"'


def page_url(kind: ModelKind) -> str | None:
    """The address of the page that explores this kind, relative to the app's root."""
    page = explorer_for(kind)
    return page.url_path if page else None


def taxonomy_dot(kinds: list[ModelKind]) -> str:
    """Graphviz DOT of the tree, with every generative kind as a leaf under its branch."""
    lines = ["digraph taxonomy {",
             "rankdir=LR; nodesep=0.15; node [shape=box, style=rounded, fontname=Helvetica, fontsize=20];",
             'root [label="Generative models:\\nlearn p(x), or how to sample from it"];',
             'explicit [label="Explicit density"]; root -> explicit;']
    for number, (start, words) in enumerate(BRANCHES):
        if start.startswith("not a generative"):  # beside the tree, not on it
            lines.append(f"branch{number} [label={quoted(words)}, style=dashed];")
        else:
            parent = "explicit" if start.startswith("explicit") else "root"
            lines.append(f"branch{number} [label={quoted(words)}]; {parent} -> branch{number};")
        if number == 0:  # before deep learning: the playground's mixture, fitted by maximum likelihood (EM)
            lines.append(f"mixture [label={quoted('Gaussian mixture (EM)')}, shape=ellipse, fontcolor=blue, "
                         f"URL={quoted(MIXTURE_URL)}, target=_self]; branch0 -> mixture;")
        for leaf, kind in enumerate(k for k in kinds if on_the_tree(k) and k.family.startswith(start)):
            url = page_url(kind)
            link = f", URL={quoted(url)}, target=_self, fontcolor=blue" if url else ""
            lines.append(f"kind{number}_{leaf} [label={quoted(kind.title)}, shape=ellipse{link}]; "
                         f"branch{number} -> kind{number}_{leaf};")
    lines.append("}")
    return "\n".join(lines)


def unplaced(kinds: list[ModelKind]) -> list[ModelKind]:
    """Generative kinds whose family matches no branch (a new family needs a branch here)."""
    return [k for k in kinds if on_the_tree(k) and not any(k.family.startswith(start) for start, _ in BRANCHES)]
