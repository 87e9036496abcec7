"""``python -m inspector evaluate {ct,rgb,gain,vlm,vlg} ... --json OUT``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from inspector.commands._targets import EVALUATE_TARGETS, one_or_many, resolve


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="evaluate a checkpoint (or a VLM/VLG backend) on a dataset")
    p.add_argument("target", choices=sorted(EVALUATE_TARGETS))
    p.add_argument("--checkpoint", help="NAME.safetensors (ct, rgb, gain)")
    p.add_argument("--backend", help="backend name (vlm, vlg)")
    p.add_argument(
        "--data",
        required=True,
        action="append",
        help="dataset folder with manifest.csv; repeat for several (ct: trained/evaluated together)",
    )
    p.add_argument("--split", default="test", help="manifest split to evaluate (default: test)")
    p.add_argument("--json", dest="json_out", required=True, help="where to write the metrics JSON")
    p.add_argument("--report", help="optional folder for the Markdown report and figures")
    p.add_argument("--limit", type=int, default=None, help="evaluate at most N images")
    p.add_argument("--ood", help="review: folder with ood.csv (python -m inspector synth-ood)")
    p.add_argument(
        "--detail-pass",
        choices=("card", "on", "off"),
        default="card",
        help="ct: score large slices with the native-resolution tile pass as the card says (default), always, or never",
    )
    p.add_argument(
        "--localisation",
        action="store_true",
        help="ct: also score the inspector's attention maps against the defect masks (CAM-IoU, PointGame)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    args.data = one_or_many(args.data, args.target, "evaluate")
    fn = resolve(EVALUATE_TARGETS[args.target])
    metrics = fn(args)
    out = Path(args.json_out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(metrics, indent=2, ensure_ascii=False))
    print(json.dumps({k: v for k, v in metrics.items() if not isinstance(v, (dict, list))}, indent=2))
    return 0
