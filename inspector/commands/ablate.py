"""``python -m inspector ablate --data DIR --out DIR [--strategies S1,...,S8]``: the GAIN-MTL ablation."""

from __future__ import annotations

import argparse

from core.errors import InputError


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _ints(text: str) -> list[int]:
    try:
        return [int(part) for part in _names(text)]
    except ValueError:
        raise InputError(f"expected comma-separated integers, got {text!r}") from None


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ablate", help="train and compare the GAIN-MTL strategies S1-S8 (resumable)")
    p.add_argument("--data", required=True, help="training dataset made with synth --shortcut P")
    p.add_argument("--out", required=True, help="output folder (runs, table, chart, gallery)")
    p.add_argument("--strategies", default="S1,S2,S3,S4,S5,S6,S7,S8", help="comma-separated presets")
    p.add_argument("--eval-data", help="dataset whose test/test_shift are evaluated (default: --data)")
    p.add_argument("--seeds", default="0", help="seeds run for every strategy (default: 0)")
    p.add_argument("--multi-seed", default="", help="key strategies that also run --extra-seeds")
    p.add_argument("--extra-seeds", default="1,2", help="extra seeds of the key strategies")
    p.add_argument("--epochs", type=int, help="override the presets' epoch count")
    p.add_argument("--limit", type=int, help="use at most N training images")
    p.add_argument("--val-limit", type=int, help="use at most N validation images")
    p.add_argument("--config-dir", help="folder of the presets (default: training/configs/gain)")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="runs trained in parallel, one thread each (default: 1; 2 on 2 cores)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from training.ablation import AblationPlan, markdown_table, run_ablation

    overrides = {}
    if args.epochs is not None:
        overrides["train.epochs"] = args.epochs
    if args.limit is not None:
        overrides["data.limit"] = args.limit
    if args.val_limit is not None:
        overrides["data.val_limit"] = args.val_limit
    plan = AblationPlan(
        strategies=_names(args.strategies),
        seeds=_ints(args.seeds),
        extra_seeds=_ints(args.extra_seeds) if args.multi_seed else [],
        multi_seed=_names(args.multi_seed),
        overrides=overrides,
    )
    if args.config_dir:
        plan.config_dir = Path(args.config_dir)
    if not plan.strategies:
        raise InputError("--strategies is empty")
    if args.workers < 1:
        raise InputError(f"--workers must be at least 1, got {args.workers}")
    summary = run_ablation(args.data, args.out, plan, eval_dir=args.eval_data, workers=args.workers)
    print(markdown_table(summary))
    print(f"\nreport: {Path(args.out) / 'ablation.md'}")
    return 0
