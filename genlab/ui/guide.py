""""What am I looking at?" for every tab or view (an analogy, what to try, what to notice), and the glossary every
page reaches from the sidebar. Plain words first; the pages keep the formulas in "The maths" expanders.
"""
from __future__ import annotations

import re

import streamlit as st

from genlab.ui.presenter import is_presenting

# (page, tab) -> (what it is like, what to try, what to notice)
GUIDES: dict[tuple[str, str], tuple[str, str, str]] = {
    ("VAE explorer", "Manifold"): (
        "A map of everything the decoder can draw: each tile is the image decoded from one point of the latent "
        "plane.",
        "Widen the span and look at the edges.",
        "Neighbouring tiles are similar images: the codes are organised. Far from the centre, where the prior puts "
        "little mass, the images degrade."),
    ("VAE explorer", "Latent pad"): (
        "A joystick for the decoder: the marker is a latent code z, the picture is what the decoder makes of it.",
        "Drag slowly from one class's region to another's.",
        "The image changes gradually, and passes through in-between shapes where two classes meet."),
    ("VAE explorer", "Encoded test set"): (
        "Where the encoder puts images it has never seen: one dot per test image, at its code mu.",
        "Click a dot to see its image, then a dot of another colour nearby.",
        "Classes form regions although the model never saw a label; close dots are similar images."),
    ("VAE explorer", "Sliders & traversals"): (
        "A mixing desk: one slider per latent dimension, each strip shows what moving that one does.",
        "Move one slider at a time, on a beta-VAE and on a plain VAE.",
        "Dimensions with KL near 0 change nothing (collapsed to the prior); on the beta-VAE of shapes, each active "
        "dimension changes one factor: the shape, its size, its rotation, or its position across or down."),
    ("VAE explorer", "Interpolation"): (
        "A morph between two test images, through the codes between theirs.",
        "Pick two images of different classes; compare linear and spherical paths.",
        "Every frame decodes to a plausible image when the path stays where training codes lie."),
    ("VAE explorer", "Your own input"): (
        "The encoder and the decoder as a photocopier that keeps only a few numbers of your drawing.",
        "Draw something unlike the training images, then something like them.",
        "Images like the training data come back well; the cost splits into reconstruction and KL, and the "
        "reconstruction keeps the shape but loses detail."),
    ("VAE explorer", "Beside another model"): (
        "Two models of the same size side by side: where each puts the test images' codes, and what codes drawn "
        "from a prior decode to.",
        "Open the plain autoencoder and put the VAE of the same size beside it; then try an AAE.",
        "The autoencoder's codes spread anywhere, so many N(0, I) codes fall into holes and decode to smudges; "
        "the VAE's codes fill the N(0, I) cloud, and the AAE's take the shape of its own prior."),
    ("VAE explorer", "Factors"): (
        "A scorecard for disentanglement: rows are the factors the shapes were drawn from, columns the latent "
        "dimensions, and each cell says how much one dimension knows about one factor.",
        "Open the beta-VAE of shapes, then a VAE or an autoencoder of shapes if you trained one.",
        "A disentangled model has one bright cell per row, each in its own column; blank columns are dimensions "
        "the model does not use (posterior collapse)."),
    ("VAE explorer", "ELBO gap"): (
        "A ladder towards the true log p(x): each rung averages, inside the log, how well more sampled codes z "
        "explain the image.",
        "Pick a few test images and compare where the ELBO starts and where k = 1000 ends.",
        "The bound rises with k and flattens below log p(x); the rise is a lower bound on the gap "
        "KL(q(z|x) ‖ p(z|x))."),
    ("GAN arithmetic", "Equation"): (
        "Arithmetic on the noise vectors z that the generator turns into images.",
        "Put three ankle boots in A, three sneakers in B, three sandals in C.",
        "A − B + C often adds the concept A has and B lacks; the DCGAN paper averaged three z per concept because "
        "single samples were unstable."),
    ("GAN arithmetic", "Interpolation"): (
        "A morph between two generated images, through the z between theirs.",
        "Pick two gallery images of different kinds; compare linear and spherical paths.",
        "The images change gradually: the generator maps nearby z to similar images."),
    ("GAN arithmetic", "Latent walk"): (
        "Nine frames along one random straight line in the noise space, through a gallery image.",
        "Change the step length, then the direction.",
        "Smooth changes suggest the generator has not just memorised training images; sudden jumps would."),
    ("GAN arithmetic", "Saved equations"): (
        "A notebook of equations you saved, to replay with the same seed and groups.",
        "Save an equation, draw a new batch, then replay it.",
        "The same seed gives the same gallery, so an equation replays exactly."),
    ("GAN arithmetic", "Codes"): (
        "Knobs on the generator's input that nobody labelled: InfoGAN rewarded G for keeping them readable.",
        "Read a row of the grid; then watch each continuous code's strip, and set the other codes with the sliders.",
        "A row that holds one digit means c₁ found the class on its own; a strip that only tilts or thickens "
        "the digit means that code found a style factor."),
    ("GAN arithmetic", "Same z, another class"): (
        "One hand asked to draw every class: the same noise z, drawn with each class label.",
        "Pick a few gallery images and read down a column, then change the class above the gallery.",
        "The class changes down a column while thickness, slant or size stay: the label carries the class, so z "
        "is left with the style."),
    ("Autoregressive", "Complete"): (
        "Finishing a sentence one word at a time, but with pixels in reading order.",
        "Hide the bottom half of a test image and ask for several completions.",
        "Each completion is a different plausible ending; the ranking uses the model's own log p."),
    ("Autoregressive", "Watch it draw"): (
        "A printer that decides each pixel from the pixels already printed.",
        "Watch a sample being drawn, then pick a pixel and compare what a plain and a gated PixelCNN can see.",
        "Sampling takes one step per pixel, in order; the plain PixelCNN misses a wedge above and to the right."),
    ("Autoregressive", "Surprise map"): (
        "A heat map of surprise: how unexpected each pixel was, given the pixels before it.",
        "Score a test image, then a drawing with about as much ink.",
        "Edges and strokes are the surprising pixels; the map sums to −log p(x). Below, a classifier's p(y | x) "
        "for the same image sums to 1 whatever the image."),
    ("Autoregressive", "Sample"): (
        "The model drawing whole images from nothing, pixel by pixel.",
        "Lower the temperature, then raise it.",
        "Samples can look locally right and globally odd: the raster order is an assumption."),
    ("Autoregressive", "Parameters"): (
        "The bill for writing p(x) down as a table, against what the models pay.",
        "Slide the number of pixels from 10 to 784.",
        "The table grows as 2^n; models that share weights across conditionals stay small."),
    ("Autoregressive", "Likelihoods"): (
        "A league table: how likely each model finds the same test images.",
        "Read the exact figures beside the VAE's bounds.",
        "Lower −log p(x) is better; a bound is not the value itself, and only the same data compares."),
    ("Diffusion", "Forward process"): (
        "Fog rolling over a photograph until nothing of it is left.",
        "Move the time slider from 0 to 1.",
        "At t = 1 every image is the same kind of noise: the model must learn the way back."),
    ("Diffusion", "Reverse process"): (
        "A sculptor refining a rough block: each step removes a little noise.",
        "Step through the sampler and watch the network's guess of the finished image.",
        "Early guesses are blurry averages of many possible images; later steps commit to details."),
    ("Diffusion", "Steps and guidance"): (
        "The price list: fewer steps are faster, stronger guidance is more on-class.",
        "Lower the number of steps, then raise the guidance scale.",
        "Few steps blur or distort; strong guidance gives more typical, less varied images."),
    ("Translate", "Translate"): (
        "A translator who never saw a bilingual dictionary, only books in each language.",
        "Translate a test image, then pick the model trained without the cycle loss and translate the same one.",
        "With the cycle loss the round trip lands on the input; without it the round trip lands further off, "
        "and some translations reach the target domain but lose what the input showed."),
    ("Translate", "Every domain"): (
        "One actor playing every role: the same face, another costume each time.",
        "Pick the StarGAN and read a column from top to bottom.",
        "One generator draws every row; each keeps the column's digit or shape, only the domain changes."),
    ("Translate", "Measured"): (
        "The exam: hundreds of test images, graded by classifiers that know the right answer.",
        "Compare the models with and without the cycle loss.",
        "Both reach the target domain; on shapes only the one with the cycle loss keeps every square's place "
        "and size, and on digits the cycle loss shows in the round trip."),
    ("GAN playground", "Playground"): (
        "A forger (G) and a detective (D) on a map: the background is where D believes points are real.",
        "Press Play on the ring, then try the minimax loss or more D steps.",
        "The orange points chase the blue regions; watch for mode collapse, points piling on a few modes."),
    ("GAN playground", "Slow motion"): (
        "One move of the game, replayed frame by frame.",
        "Press Next sub-step four times, and compare D with the optimal D* beside it.",
        "D learns from one batch at a time, G follows D's slope, and a real D is far from optimal."),
    ("GAN playground", "Minimax vs non-saturating"): (
        "Two forgers with the same start; only the way they are scored differs.",
        "Pick the single Gaussian, plain SGD and 3 D steps per G step, then step.",
        "While D wins, the minimax G barely moves; the non-saturating G moves first."),
    ("GAN playground", "Explicit vs implicit density"): (
        "A weather map of p(x) beside a scatter of samples: one model writes the density down, the other only "
        "draws.",
        "Change the number of mixture components.",
        "The mixture's density can be evaluated anywhere; the GAN gives points only."),
    ("Train", ""): (
        "A gym for small models: the curves are the workout log, the grid shows what it can do so far.",
        "Start the one-minute demo and watch the grid.",
        "Samples improve as the loss falls; held-out figures show whether it generalises."),
    ("Compare", ""): (
        "A school report for each family, marked with the same exam.",
        "Read FID with the sample grids, precision with recall.",
        "No family wins everything: sharpness, coverage, likelihood and speed trade off."),
}

GLOSSARY = {
    "nat": "The unit of information with natural logarithms: −log p in nats. 1 nat = 1.443 bits.",
    "bits per dimension": "−log₂ p(x) divided by the number of pixels: a likelihood that compares across image "
                          "sizes; only on the same data and pixel values.",
    "KL divergence": "KL(q ‖ p) = E_q[log q − log p] ≥ 0: how much q differs from p, in nats; 0 only when "
                     "they are equal. Not symmetric.",
    "prior": "p(z), what a model assumes about codes before seeing an image; for a VAE, N(0, I).",
    "posterior": "p(z | x), the codes that fit a given image; a VAE's encoder q(z | x) approximates it.",
    "latent code": "z, the few numbers a model turns into an image (a VAE's code, a GAN's noise).",
    "ELBO": "The evidence lower bound E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)) ≤ log p(x); a VAE maximises it.",
    "FID": "Fréchet distance between Gaussians fitted to the features of real and generated images: lower is "
           "better; depends on the number of samples, so compare at the same N.",
    "mode collapse": "A generator that covers only some kinds of data (some modes), e.g. draws only a few classes.",
    "precision and recall": "Precision: the share of samples that look like real data (fidelity). Recall: the "
                            "share of real data the samples cover. Read them together.",
    "domain": "A set of images that share a style or a kind (plain digits, thick digits, squares); a translator "
              "turns an image of one domain into the same content in another.",
    "cycle consistency": "Translated to another domain and back, an image should come back: |F(G(x)) − x| small. It "
                         "ties a translation to its input when there are no before-and-after pairs to learn from.",
    "guidance": "Classifier-free guidance: push a conditional prediction away from the unconditional one, for "
                "samples more typical of the class and less varied.",
}


# How each glossary term may be written in the pages' text (word starts; case matters for abbreviations)
SPELLINGS: dict[str, tuple[str, ...]] = {
    "nat": ("nat", "nats"), "bits per dimension": ("bits per dimension", "bits/dim"), "KL divergence": ("KL",),
    "prior": ("prior",), "posterior": ("posterior",), "latent code": ("latent code", "latent space", "code z"),
    "ELBO": ("ELBO",), "FID": ("FID",), "mode collapse": ("mode collapse",),
    "precision and recall": ("precision", "recall"), "guidance": ("guidance",), "domain": ("domain", "domains"),
    "cycle consistency": ("cycle consistency", "cycle-consistency", "cycle loss"),
}


def terms_in(text: str) -> list[str]:
    """The glossary's terms that `text` uses, in SPELLINGS' order."""
    found = []
    for term, spellings in SPELLINGS.items():
        for spelling in spellings:
            flags = 0 if spelling.isupper() else re.IGNORECASE  # "KL", "FID", "ELBO" only as written
            if re.search(rf"(?<![\w-]){re.escape(spelling)}(?![\w-])", text, flags):
                found.append(term)
                break
    return found


def glossary_help(text: str) -> str | None:
    """The glossary's entries for the terms `text` uses, as a tooltip's Markdown (None when it uses none)."""
    terms = terms_in(text)
    return "\n\n".join(f"**{term}**: {GLOSSARY[term]}" for term in terms) if terms else None


def explained(text: str) -> None:
    """Markdown with a tooltip (the ? beside it) that explains the glossary terms it uses, where they appear."""
    st.markdown(text, help=glossary_help(text))


def guide(page: str, tab: str = "") -> None:
    """The "What am I looking at?" box of a page's tab: collapsed normally, open on a projector. Its terms are
    explained beside it (the glossary's entries, in a tooltip)."""
    like, try_, notice = GUIDES[(page, tab)]
    text = f"**Like:** {like}\n\n**Try:** {try_}\n\n**Notice:** {notice}"
    if is_presenting():
        st.info(text)
    else:
        with st.expander("What am I looking at?", icon="💡"):
            explained(text)


def glossary() -> None:
    """The glossary, in a popover (the sidebar of every page)."""
    with st.popover("Glossary", icon="📖", width="stretch"):
        st.markdown("\n".join(f"- **{term}**: {meaning}" for term, meaning in GLOSSARY.items()))
