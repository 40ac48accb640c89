"""How well do the translators translate? For every direction of every checkpoint given, on the first N test items
drawn in the source domain (for digits in styles and shapes every test item can be: the same digit, or the same
shape factors, drawn in the source's style or shape): the share the shipped domain classifier reads as the target
(domain accuracy), the share whose content survives (digits: the shipped digits classifier reads the source's
digit; shapes: centre within 2 px and size within 15% of the source's known factors, from image moments), the same
content test on the untranslated inputs (its ceiling), and the round-trip error (mean |x - back(there(x))|, pixels
in [0, 1]).

    python benchmarks/translation_quality.py checkpoints/digit-styles/*.safetensors
    python benchmarks/translation_quality.py --n 1000 checkpoints/shapes/cyclegan*.safetensors

Non-translator checkpoints among the files (a classifier) are skipped.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from genlab.data import drawn_in_domain, load_dataset  # noqa: E402
from genlab.evaluation.translation import judge_files, translation_figures  # noqa: E402
from genlab.models import TRANSLATOR, get_kind  # noqa: E402
from genlab.models.loading import load_checkpoint  # noqa: E402


def loaded(info):
    return load_checkpoint(info.path).model.float().eval() if info else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--n", type=int, default=1000, help="test images per direction (fewer if a domain has fewer)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print("| model | from -> to | N | in the target domain | content kept | content test on the inputs | "
          "round trip |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for path in args.checkpoints:
        checkpoint = load_checkpoint(path)
        if not get_kind(checkpoint.kind).can(TRANSLATOR):
            continue
        model, card = checkpoint.model.float().eval(), checkpoint.card
        dataset = card["dataset"]
        test = load_dataset(dataset, "test")
        domains, content = (loaded(info) for info in judge_files(dataset))
        names = card.get("class_names") or [str(d) for d in model.domains]
        for source in model.domains:
            for target in model.domains:
                if source == target:
                    continue
                images = drawn_in_domain(dataset, "test", source) or test  # every test item, in the source domain
                f = translation_figures(model, images, source, target, domains, content, n=args.n)
                share = lambda v: "-" if v is None else f"{v:.1%}"  # noqa: E731  (no known content: -)
                print(f"| {Path(path).parent.name}/{Path(path).stem} | {names[source]} -> {names[target]} | {f['n']} | "
                      f"{f['domain_accuracy']:.1%} | {share(f['content_kept'])} | {share(f['content_kept_source'])} | "
                      f"{f['round_trip']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
