"""``python -m inspector compare --data DIR --vlm A[,B] --vlg C[,D] --json OUT``: the comparison bench.

Runs the inspector, every listed VLM and VLG and every VLM x VLG combination over the labelled
CT+RGB pairs of a dataset and writes the Compare JSON (``systems``, ``agreement``), and with
``--report DIR`` a Markdown table and interactive plotly figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from inspector.settings import default_checkpoints_dir

#: VLM answer cache: ``$INSPECTOR_CACHE_DIR/vlm`` (default ``.inspector_cache/vlm``), as the app's.
DEFAULT_CACHE = os.path.join(os.environ.get("INSPECTOR_CACHE_DIR") or ".inspector_cache", "vlm")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="compare the inspector, VLMs and VLGs on the labelled pairs of a dataset",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("--data", required=True, help="dataset folder with manifest.csv (CT+RGB rows sharing pair_id)")
    p.add_argument("--split", default="test", help="manifest split, or 'all' (default: test)")
    p.add_argument("--vlm", default="findings_writer", help="VLM backends, comma-separated, or 'none'")
    p.add_argument("--vlg", default="model_boxes", help="VLG backends, comma-separated, or 'none'")
    p.add_argument(
        "--vlm-mode",
        choices=("blind", "evidence"),
        default="blind",
        help="blind: VLMs see only the images and metadata (default); evidence: also the inspector's",
    )
    p.add_argument("--limit", type=int, help="at most N pairs")
    p.add_argument("--json", dest="json_out", required=True, help="where to write the Compare JSON")
    p.add_argument("--report", help="folder for compare.md and compare.html")
    p.add_argument("--lang", choices=("ko", "en"), default="en", help="language of the VLM findings")
    p.add_argument("--cache", default=DEFAULT_CACHE, help=f"VLM answer cache folder (default: {DEFAULT_CACHE})")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the VLM answer cache")
    p.add_argument(
        "--paid-only-on-defect",
        action="store_true",
        help="call a paid VLM (gemini) only when the inspector's verdict is not normal",
    )
    p.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="BACKEND.KEY=VALUE",
        help="a backend option, e.g. gemini.model=gemini-2.5-flash or qwen3_vl.model_dir=/w/qwen "
        "(VALUE is read as JSON when it parses, else as text); repeat for several",
    )
    p.add_argument("--ct-checkpoint", help="CT (or GAIN) checkpoint (default: the default card)")
    p.add_argument("--rgb-checkpoint", help="RGB checkpoint (default: the default card)")
    p.add_argument("--checkpoints-dir", default=None, help=argparse.SUPPRESS)
    p.add_argument("--policy", choices=("or", "and"), default="or", help="CT x RGB combination (default: or)")
    p.set_defaults(func=run)


def parse_options(items: list[str]) -> dict[str, dict[str, object]]:
    """``["gemini.timeout_s=30", ...]`` -> ``{"gemini": {"timeout_s": 30}}``.

    Raises:
        ConfigError: An item is not ``BACKEND.KEY=VALUE``.
    """
    from core.errors import ConfigError

    options: dict[str, dict[str, object]] = {}
    for item in items:
        name, _, value = item.partition("=")
        backend, _, key = name.partition(".")
        if not (backend and key and _):
            raise ConfigError(f"--option must look like BACKEND.KEY=VALUE, not {item!r}")
        try:
            parsed: object = json.loads(value)
        except ValueError:
            parsed = value
        options.setdefault(backend.strip(), {})[key.strip()] = parsed
    return options


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from inspector.evaluation.compare import markdown_table, run_compare, write_report
    from inspector.settings import InspectorSettings

    settings = InspectorSettings(
        ct_checkpoint=args.ct_checkpoint,
        rgb_checkpoint=args.rgb_checkpoint,
        checkpoints_dir=args.checkpoints_dir or default_checkpoints_dir(),
        policy=args.policy,
    )
    bar = tqdm(desc="compare", unit="pair", file=sys.stderr, dynamic_ncols=True)

    def progress(done: int, total: int, item_id: str) -> None:
        bar.total = total
        bar.update(1)

    try:
        result = run_compare(
            args.data,
            split=args.split,
            vlms=args.vlm,
            vlgs=args.vlg,
            vlm_mode=args.vlm_mode,
            limit=args.limit,
            settings=settings,
            lang=args.lang,
            cache_dir=None if args.no_cache else args.cache,
            paid_only_if_defect=args.paid_only_on_defect,
            backend_options=parse_options(args.option),
            on_progress=progress,
        )
    finally:
        bar.close()
    out = Path(args.json_out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    if args.report:
        write_report(result, args.report)
    print(markdown_table(result))
    return 0
