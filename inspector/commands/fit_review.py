"""``python -m inspector fit-review --checkpoint C --ood DIR --data D [--data D2] [--write]``."""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fit-review",
        help="choose a CT checkpoint's needs-review policy on a selection set (and store it with --write)",
    )
    p.add_argument("--checkpoint", required=True, help="CT checkpoint with a fitted review density")
    p.add_argument("--ood", required=True, help="folder with ood.csv (python -m inspector synth-ood)")
    p.add_argument("--data", action="append", required=True, help="in-distribution selection dataset(s)")
    p.add_argument("--split", default="test", help="manifest split of --data (default: test)")
    p.add_argument("--limit", type=int, default=200, help="slices per dataset (default 200)")
    p.add_argument("--min-caught", type=float, default=0.95, help="share of the OOD set to catch (default 0.95)")
    p.add_argument("--write", action="store_true", help="store the chosen policy in the checkpoint card")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from training.review_policy import select_policy

    result = select_policy(args.checkpoint, args.ood, args.data, args.split, args.limit, args.min_caught, args.write)
    print(json.dumps(result, indent=1))
    return 0
