"""The lesson path: the 13 steps of the course (../shared/COURSE.md, "A lesson path") in its order, each pointing at
a page, a tab and the settings the step needs. The settings travel as query parameters of the page's link: a tab or
widget bound to the URL (`bind="query-params"`) reads them (a selectbox by its shown label), and `model` picks a
shipped checkpoint (genlab/ui/common.py's checkpoint_picker).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from genlab.data import DATASETS
from genlab.playground.data import TOY_DATASETS


@dataclass(frozen=True)
class LessonStep:
    title: str
    page: str | None  # a views/ file; None where genlab has no page for the step yet
    settings: dict[str, str] = field(default_factory=dict)  # the link's query parameters
    open_what: str = ""  # what the link opens, in words
    predict: str = ""  # a question to answer before trying
    notice: str = ""  # what to look for once it runs
    missing: str = ""  # what the step needs that genlab does not have yet


PLAYGROUND, HOME = "views/6_GAN_playground.py", "views/home.py"
AUTOREGRESSIVE, VAE, GAN = "views/3_Autoregressive.py", "views/1_VAE_explorer.py", "views/2_GAN_arithmetic.py"
DIFFUSION, COMPARE, TRANSLATE = "views/7_Diffusion.py", "views/5_Compare.py", "views/9_Translate.py"
GAUSSIAN = TOY_DATASETS["gaussian"]().title  # as the playground shows them

STEPS = [
    LessonStep(
        "Generative versus discriminative; a Gaussian mixture", PLAYGROUND,
        {"gp_view": "Explicit vs implicit density"},  # the ring is the default data (see step 8 on defaults)
        "The GAN playground: a Gaussian mixture's density beside a GAN's samples of the same ring of points (the "
        "GAN starts untrained: press Play in the Playground view for a while, then come back).",
        "A classifier learns p(y | x). What does a generative model learn, and what can it do that a classifier "
        "cannot?",
        "The mixture writes p(x) down: its heat map is a density you can evaluate anywhere. Change the number of "
        "components and watch the fitted density lose or find the ring's modes. Then, on the Autoregressive page's "
        "Surprise map, see a classifier's p(y | x) beside a model's p(x) for the same image."),
    LessonStep(
        "The taxonomy: explicit tractable, explicit approximate, implicit", HOME, {},
        "The home page: the families as a tree, and the table of shipped models with the likelihood each reports.",
        "Which of these models can tell you how likely a test image is, and which can only draw new ones?",
        "Autoregressive models report an exact −log p(x), a VAE an upper bound (−ELBO) on black-and-white images; "
        "the GAN and the flow model report none, though both define a distribution."),
    LessonStep(
        "The chain rule, parameter counting, NADE", AUTOREGRESSIVE,
        {"pcnn_tab": "Parameters", "model": "digits/nade"},
        "The Autoregressive page's Parameters tab, with the shipped NADE.",
        "A full table of p(x) for 784 black-and-white pixels: how many numbers does it need?",
        "The table needs 2^784 − 1 numbers (about 10^236), independent pixels 784 (and draw noise); NADE keeps "
        "the whole chain rule with one hidden layer whose weights all 784 conditionals share."),
    LessonStep(
        "PixelRNN and PixelCNN: masks, the blind spot, completion, slow sampling", AUTOREGRESSIVE,
        {"pcnn_tab": "Watch it draw", "model": "digits/pixelcnn"},
        "The Autoregressive page's Watch it draw tab, with the shipped gated PixelCNN; under \"Beside it\", pick "
        "the plain PixelCNN. Then try the Complete tab.",
        "Which earlier pixels can one output pixel of a plain PixelCNN see?",
        "The plain stack misses a wedge above and to the right, however deep; the gated one sees it. Sampling "
        "takes one step per pixel, in order: 784 steps for one digit."),
    LessonStep(
        "Autoencoder versus VAE: why codes need a prior", VAE,
        {"tab": "Beside another model", "model": "fashion-mnist/autoencoder-2d"},
        "The VAE explorer's Beside another model tab: the plain 2-D autoencoder of Fashion-MNIST beside the VAE of "
        "the same size, both decoding the same codes drawn from N(0, I).",
        "Both reconstruct clothes well. Which one will turn random codes into clothes?",
        "The autoencoder's codes spread wherever reconstruction put them, so many N(0, I) codes land in holes "
        "and decode to smudges; the VAE's KL term kept its codes on the N(0, I) cloud, so most decode to clothes. "
        "Then open the Latent pad with the VAE and drag far from the centre: there, too, the images degrade."),
    LessonStep(
        "The ELBO: reconstruction and prior fitting, reparameterisation, the gap", VAE,
        {"tab": "Your own input", "model": "digits/vae-16d-binary"},
        "The VAE explorer's Your own input tab, with the VAE of black-and-white digits: draw a digit and see it "
        "encoded and reconstructed.",
        "Will the reconstruction of your drawing be sharper or blurrier than your drawing?",
        "The page shows both terms: −log p(x|z) for one z drawn as mu + sigma · eps, and KL(q(z|x) ‖ N(0, I)). "
        "On a black-and-white image their expected sum, −ELBO, bounds −log p(x) from above; the gap is "
        "KL(q(z|x) ‖ p(z|x)), which the ELBO gap tab shows closing as k grows."),
    LessonStep(
        "beta-VAE and disentanglement; AAE", VAE,
        {"tab": "Sliders & traversals", "model": "shapes/beta-vae-10d"},
        "The VAE explorer's Sliders & traversals tab, with the beta-VAE trained on shapes.",
        "If one latent dimension is moved and the others kept, how many things about the shape should change?",
        "Traversing one active dimension changes one factor (shape, size, rotation, position across or down); "
        "dimensions with KL near 0 change nothing: they collapsed to the prior. The Factors tab measures it, and "
        "comparing the VAEs of shapes with beta 1, 4 and 8 shows the trade with reconstruction. Then pick the AAE "
        "of digits with the mixture prior in the Encoded test set tab: a discriminator pushed each class into "
        "its own Gaussian of the ring, where grey prior samples lie."),
    LessonStep(
        "The GAN game: optimal D, non-saturating loss, mode collapse", PLAYGROUND,
        {"gp_view": "Minimax vs non-saturating", "gp_dataset": GAUSSIAN, "gp_d_steps": "3", "gp_speed": "5"},
        # plain SGD is the comparison's default: a default value in the link would leave the address at once, an
        # extra history step that traps the browser's Back on this page
        "The GAN playground: two GANs that differ only in the generator's loss, on one Gaussian, with 3 D steps "
        "per G step, plain SGD and 5 steps per frame. Press Play.",
        "Early on, D rejects every fake with confidence. Which generator loss still gives G a strong gradient?",
        "While D wins, log(1 − D(G(z))) is flat, so the minimax G barely moves and the non-saturating G moves "
        "first. Then pick the ring of 8 Gaussians and count the modes each GAN covers."),
    LessonStep(
        "DCGAN and latent arithmetic", GAN, {"model": "fashion-mnist/dcgan"},
        "The GAN arithmetic page with the Fashion-MNIST DCGAN: group samples, then compute A − B + C.",
        "Ankle boots − sneakers + sandals: what should the result look like?",
        "The DCGAN paper averaged three z per concept because single samples gave unstable results; "
        "interpolating between two z changes the image gradually, frame by frame."),
    LessonStep(
        "Conditional GAN, InfoGAN, Progressive GAN", GAN,
        {"model": "digits/conditional-gan", "gan_tab": "Same z, another class"},
        "The GAN arithmetic page with the digits conditional GAN, on its 'Same z, another class' tab: every "
        "column keeps one noise vector z, every row asks G for another digit.",
        "If G is told which digit to draw, what is left for the noise z to decide?",
        "Down a column only the digit changes; thickness, slant and size stay: the label carries the class, so z "
        "carries the style. Measured (1,000 samples each): the shipped classifier finds the class asked for in "
        "99.2% of the digits and 92.1% of the Fashion-MNIST samples. Text-to-image models put a sentence's "
        "embedding where the label goes. Then pick the InfoGAN (its Codes tab: the digit found without labels) "
        "and the Fashion-MNIST progressive GAN in the model list; train a progressive GAN on the Train page to "
        "watch its resolution and fade-in α on the progress line while the sample grid sharpens.",
    ),
    LessonStep(
        "CycleGAN and StarGAN", TRANSLATE, {"tr_tab": "Measured", "model": "shapes/cyclegan"},
        "The Translate page's Measured tab, with the CycleGAN that turns squares into circles; then pick the one "
        "trained without the cycle loss in the model list, then the digits' StarGAN and its Every domain tab.",
        "Trained only to make its output look like a circle, with no pairs to copy from, will a translator keep the "
        "square's place and size?",
        "With the cycle loss every circle keeps the square's centre and size (1,000 of 1,000); without it, 23% "
        "drift, though all of them are circles, and the round trip lands 8 to 12 times further off. On digits the "
        "convolutional generator keeps the digit even without the cycle loss (it only thickens strokes where they "
        "are): there the cycle loss shows in the round trip. StarGAN does every style with one generator, told "
        "the target style as extra input planes."),
    LessonStep(
        "Diffusion and flow matching", DIFFUSION,
        {"diff_tab": "Reverse process", "model": "fashion-mnist/flow-matching"},
        "The Diffusion page's Reverse process tab, with the Fashion-MNIST flow-matching model.",
        "Halfway from noise to image, what will the network's guess of the finished image look like?",
        "Early guesses are blurry averages of many possible images; each step commits to more detail. Then try "
        "the Forward process tab, and fewer steps on Steps and guidance."),
    LessonStep(
        "Comparing families: FID, likelihoods, samples", COMPARE, {"compare_dataset": DATASETS["fashion-mnist"].title},
        "The Compare page on Fashion-MNIST: every shipped model's samples and metrics side by side.",
        "Which family will have the lowest FID, and which the fastest sampling?",
        "Read precision with recall (pure noise has a high precision); compare FIDs at the same N, and "
        "likelihoods only on the same pixel values."),
]
