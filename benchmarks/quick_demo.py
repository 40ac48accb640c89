"""The "quick demo" as a class sees it: press Start on the Train page with the 1-minute preset and record what
the browser shows. Prints a timeline (first step, how often the progress bar and the sample grid changed,
when the checkpoint was saved) and saves screenshots of the page and of the sample grid every 20 seconds.

    .venv/bin/python benchmarks/quick_demo.py --out test-artifacts/quick_demo
    .venv/bin/python benchmarks/quick_demo.py --latent-dim 2 --out test-artifacts/quick_demo_2d
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from live_app import (chromium, grid_caption, images_per_second, open_train_page, progress_step, progress_text,
                      read_card, start_run, streamlit_server)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="test-artifacts/quick_demo", help="folder for the screenshots")
    parser.add_argument("--latent-dim", type=int, default=None, help="change the VAE's latent size (2: a map)")
    parser.add_argument("--every", type=float, default=20, help="seconds between screenshots")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "user_checkpoints"
        folder.mkdir()
        with streamlit_server(folder) as server, chromium() as browser:
            url = server.url
            page = browser.new_context(viewport={"width": 1400, "height": 1300}).new_page()
            open_train_page(page, url)
            config = {"latent_dim": args.latent_dim} if args.latent_dim else {}
            start_run(page, None, config)  # the default preset: "Quick demo: 1 minute"
            pressed = time.monotonic()
            first_step = saved = None
            progress_changes, grid_changes, last_progress, last_grid = [], [], None, None
            next_shot = args.every
            while saved is None and time.monotonic() - pressed < 600:
                now = time.monotonic() - pressed
                if first_step is None and (progress_step(page) or 0) > 0:
                    first_step = now
                text, caption = progress_text(page), grid_caption(page)
                if text and text != last_progress:
                    progress_changes.append(now)
                    last_progress = text
                if caption and caption != last_grid:
                    grid_changes.append(now)
                    last_grid = caption
                if now >= next_shot:
                    page.screenshot(path=str(out / f"page_{int(next_shot):03d}s.png"))
                    grid = page.locator("[data-testid='stImage'] img").last  # the loss chart is the first picture
                    if grid.count():
                        grid.screenshot(path=str(out / f"grid_{int(next_shot):03d}s.png"))
                    print(f"{now:5.1f} s after Start: {text} | {caption}")
                    next_shot += args.every
                if page.get_by_text("every page's model list shows it now").count():
                    saved = now
                time.sleep(0.25)
            page.screenshot(path=str(out / "page_finished.png"), full_page=True)
            card = read_card(next(folder.rglob("*.safetensors")))

    def gaps(times):
        values = [b - a for a, b in zip(times, times[1:])]
        if not values:
            return "-"
        worst = max(range(len(values)), key=values.__getitem__)
        return (f"median {statistics.median(values):.1f} s, max {values[worst]:.1f} s (from {times[worst]:.1f} s "
                f"to {times[worst + 1]:.1f} s after Start)")

    print(f"\nQuick demo: {card['title']}, {card['device']}")
    print("| what | value |")
    print("| --- | --- |")
    print(f"| first training step shown | {first_step:.1f} s after Start |")
    print(f"| progress bar changes | {len(progress_changes)}, {gaps(progress_changes)} apart |")
    print(f"| sample grid changes | {len(grid_changes)}, {gaps(grid_changes)} apart |")
    print(f"| checkpoint saved (page says so) | {saved:.1f} s after Start |")
    print(f"| steps, images/s while training | {card['steps']}, {images_per_second(card):.0f} |")
    print(f"| test -ELBO (nats/image) | {card['metrics'].get('neg_elbo')} |")
    print(f"\nScreenshots in {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
