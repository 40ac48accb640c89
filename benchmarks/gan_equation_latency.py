"""How long the GAN arithmetic page takes to show an equation of three groups, on the current device.

    python benchmarks/gan_equation_latency.py                         # the shipped Fashion-MNIST DCGAN
    python benchmarks/gan_equation_latency.py --checkpoint PATH --repeats 20

Rows: the backend alone (three group means, the result and 8 variations decoded in one batch), the same plus
the PNG encoding the page sends to the browser, and a whole rerun of the page script in Streamlit's AppTest
with groups A, B and C of three images each (gallery, equation, interpolation and walk tabs: everything a
click on a group causes). The budget column compares each median with the goal of one second.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genlab.device import describe_device, pick_device  # noqa: E402
from genlab.explore import arithmetic as eqs  # noqa: E402
from genlab.images import png_bytes, to_pil  # noqa: E402
from genlab.models.loading import load_checkpoint  # noqa: E402

GROUPS = {"A": [0, 1, 2], "B": [3, 4, 5], "C": [6, 7, 8]}


def median_ms(work, repeats: int) -> float:
    work()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def page_rerun_ms(repeats: int) -> float:
    """A whole rerun of views/2_GAN_arithmetic.py after a change of group C, in AppTest."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "views" / "2_GAN_arithmetic.py"), default_timeout=300)
    at.run()
    at.multiselect(key="gan_group_a").set_value(GROUPS["A"])
    at.multiselect(key="gan_group_b").set_value(GROUPS["B"])
    at.multiselect(key="gan_group_c").set_value(GROUPS["C"])
    at.run()
    assert not at.exception and "result" in [c for image in at.image for c in image.captions]
    times = []
    for i in range(repeats):
        at.multiselect(key="gan_group_c").set_value(GROUPS["C"][: 1 + i % 3])  # a real change each time
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", default=str(ROOT / "checkpoints" / "fashion-mnist" / "dcgan.safetensors"))
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--page-repeats", type=int, default=6)
    args = parser.parse_args()
    device = pick_device()
    model = load_checkpoint(args.checkpoint, device=device, expect_kind="dcgan").model
    latents, _ = eqs.make_gallery(model, seed=0)

    def backend():
        return eqs.render_equation(model, latents, GROUPS)

    def backend_and_png():
        out = backend()
        for image in torch.cat([out.group_means, out.result[None], out.variations]):
            png_bytes(to_pil(image, 3))

    rows = [("equation: decode 3 means + result + 8 variations", median_ms(backend, args.repeats)),
            ("  ... plus PNG encoding of the 12 images", median_ms(backend_and_png, args.repeats)),
            ("gallery: 24 samples (for comparison)", median_ms(lambda: eqs.make_gallery(model, 1), args.repeats)),
            ("whole page rerun in AppTest (all tabs)", page_rerun_ms(args.page_repeats))]
    print(f"GAN arithmetic latency on {describe_device(device)}, checkpoint {Path(args.checkpoint).name}, "
          f"torch {torch.__version__}\n")
    print(f"| {'step':<50} | {'median ms':>9} | {'of 1 s budget':>13} |")
    print(f"|{'-' * 52}|{'-' * 11}|{'-' * 15}|")
    for name, ms in rows:
        print(f"| {name:<50} | {ms:>9.1f} | {ms / 1000:>12.1%} |")


if __name__ == "__main__":
    main()
