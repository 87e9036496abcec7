"""``python -m inspector export onnx --checkpoint C --out F.onnx``: a checkpoint's graph as ONNX."""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export a checkpoint's inference graph (ONNX) with its card",
        description="Export the inference graph of a CT, GAIN or RGB checkpoint: F.onnx plus its "
        "card F.json (the checkpoint's card with an 'onnx' block naming inputs and outputs).",
    )
    p.add_argument("format", choices=("onnx",), help="export format")
    p.add_argument("--checkpoint", required=True, help="checkpoint (.safetensors with its .json card)")
    p.add_argument("--out", required=True, help="output file (.onnx); the card is written beside it")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from inspector.runtime.export import export_onnx

    card = export_onnx(args.checkpoint, args.out)
    print(json.dumps({"out": args.out, "task": card.get("task"), **card["onnx"]}, indent=2))
    return 0
