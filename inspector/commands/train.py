"""``python -m inspector train {ct,rgb,gain} --config FILE --data DIR --out DIR``."""

from __future__ import annotations

import argparse

from inspector.commands._targets import TRAIN_TARGETS, one_or_many, resolve


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model from a YAML config on a dataset folder")
    p.add_argument("target", choices=sorted(TRAIN_TARGETS), help="which model family to train")
    p.add_argument("--config", required=True, help="YAML config (see training/configs/)")
    p.add_argument(
        "--data",
        required=True,
        action="append",
        help="dataset folder with manifest.csv; repeat for several (ct: trained/evaluated together)",
    )
    p.add_argument("--out", required=True, help="run folder for checkpoints, logs, history")
    p.add_argument("--epochs", type=int, default=None, help="override the config's epoch count")
    p.add_argument("--seed", type=int, default=None, help="override the config's seed")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    data = one_or_many(args.data, args.target, "train")
    fn = resolve(TRAIN_TARGETS[args.target])
    overrides = {k: v for k, v in {"epochs": args.epochs, "seed": args.seed}.items() if v is not None}
    fn(config_path=args.config, data_dir=data, out_dir=args.out, overrides=overrides)
    return 0
