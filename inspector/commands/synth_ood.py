"""``python -m inspector synth-ood --out DIR --from DATA [--seed N] [--per-case N]``."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "synth-ood",
        help="write an out-of-distribution CT test set (noise, blank, photos, non-batteries, artefacts, wrong metadata)",
    )
    p.add_argument("--out", required=True, help="folder to write ood.csv and the images into")
    p.add_argument("--from", dest="source", required=True, help="dataset with CT test slices and RGB photos")
    p.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    p.add_argument("--per-case", type=int, default=20, help="images per case (default 20)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from training.synth.ood import make_ood_set

    table = make_ood_set(args.out, args.source, seed=args.seed, per_case=args.per_case)
    print(table.groupby("case").size().to_string())
    return 0
