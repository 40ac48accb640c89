"""The one table of the app's pages: app.py builds the navigation from it, the home page lists it, and the Train
page links a finished run to the page that can show it. A page that shows a capability lists every kind with it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from genlab.models import AUTOREGRESSIVE, GENERATOR, ITERATIVE, LATENT, TRANSLATOR, ModelKind


@dataclass(frozen=True)
class PageInfo:
    file: str  # relative to the repository root
    title: str
    icon: str
    line: str  # one line for the home page
    shows: str | None = None  # the capability whose models this page explores

    @property
    def url_path(self) -> str:
        """The page's address under the app's root, as st.navigation derives it ("views/1_VAE_explorer.py" ->
        "VAE_explorer"; the default page is the root itself)."""
        return "" if self is HOME else Path(self.file).stem.split("_", 1)[-1]


HOME = PageInfo("views/home.py", "Home", "🧪", "What each page does, which models and datasets are ready.")
PAGES = [
    HOME,
    PageInfo("views/8_Lesson_path.py", "Lesson path", "🧭",
             "The course in 13 steps: each opens the page, tab and settings it needs, after a question to "
             "answer first."),
    PageInfo("views/1_VAE_explorer.py", "VAE explorer", "🗺️",
             "Drag a point through the latent space of an autoencoder, a VAE or an AAE and watch the decoded image "
             "follow; encode your own drawing.",
             LATENT),
    PageInfo("views/2_GAN_arithmetic.py", "GAN arithmetic", "➕",
             "Add and subtract a generator's latent vectors, as in the DCGAN paper's famous figure.", GENERATOR),
    PageInfo("views/3_Autoregressive.py", "Autoregressive", "🧩",
             "Hide part of an image and let an autoregressive model imagine several endings, pixel by pixel.",
             AUTOREGRESSIVE),
    PageInfo("views/7_Diffusion.py", "Diffusion", "🌫️",
             "Watch noise turn into an image step by step; trade steps for speed and guidance for variety.",
             ITERATIVE),
    PageInfo("views/9_Translate.py", "Translate", "🔁",
             "Turn a plain digit into a thick one, a square into a circle, and back: CycleGAN and StarGAN.",
             TRANSLATOR),
    PageInfo("views/4_Train.py", "Train", "🏋️", "Train a small model live and watch its losses and samples improve."),
    PageInfo("views/5_Compare.py", "Compare", "⚖️",
             "Put the model families side by side: samples, likelihoods and quality metrics on the same data."),
    PageInfo("views/6_GAN_playground.py", "GAN playground", "🎯",
             "Watch a generator and a discriminator play the minimax game on 2-D points."),
]


def explorer_for(kind: ModelKind) -> PageInfo | None:
    """The first page that explores a capability this kind has (None: only Train and Compare show it)."""
    return next((page for page in PAGES if page.shows and kind.can(page.shows)), None)
