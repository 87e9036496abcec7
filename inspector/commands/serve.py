"""``python -m inspector serve [--host 127.0.0.1] [--port 8000]``: the REST API (uvicorn)."""

from __future__ import annotations

import argparse

from inspector.commands.inspect import add_runtime_argument, settings_from_args
from inspector.settings import default_checkpoints_dir


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the REST API (GET /health, POST /v1/inspections, docs at /docs)",
        description="Serve the REST API with uvicorn. Set INSPECTOR_API_KEYS (comma-separated) "
        "to require an X-API-Key header on /v1; INSPECTOR_DB_URL chooses the history database.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument("--workers", type=int, default=2, help="inspections run at once (default: 2)")
    p.add_argument("--queue-limit", type=int, default=8, help="inspections that may wait (default: 8)")
    p.add_argument("--ct-checkpoint", help="CT (or GAIN) checkpoint (default: the default card)")
    p.add_argument("--rgb-checkpoint", help="RGB autoencoder checkpoint (default: the default card)")
    p.add_argument("--checkpoints-dir", default=None, help=argparse.SUPPRESS)
    add_runtime_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from core.errors import InputError
    from inspector.api import create_app

    if args.workers < 1 or args.queue_limit < 0:
        raise InputError("--workers must be >= 1 and --queue-limit >= 0")
    defaults = argparse.Namespace(
        ct_checkpoint=args.ct_checkpoint,
        rgb_checkpoint=args.rgb_checkpoint,
        checkpoints_dir=args.checkpoints_dir or default_checkpoints_dir(),
        ct_threshold=None,
        rgb_threshold=None,
        policy="or",
        explainer=None,
        vlm="none",
        vlg="none",
        vlm_timeout=60.0,
        vlg_timeout=60.0,
        runtime=args.runtime,
    )
    app = create_app(settings_from_args(defaults), max_workers=args.workers, queue_limit=args.queue_limit)
    uvicorn.run(app, host=args.host, port=args.port, log_config=None)
    return 0
