"""``python -m inspector list [KIND] [--json]``: every plug-in kind and its registered names."""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> None:
    from core.plugins import kinds

    p = sub.add_parser(
        "list",
        help="list the registered plug-ins (architectures, backends, losses, ...) with descriptions",
    )
    p.add_argument("kind", nargs="?", default=None, help=f"one kind only: {', '.join(kinds())}")
    p.add_argument("--json", action="store_true", help="machine output: {kind: {name: description}}")
    p.set_defaults(func=run)


def collect(kind: str | None = None) -> dict[str, dict[str, str]]:
    """``{kind: {name: one-line description}}`` for one kind or all of them, in listing order.

    Raises:
        ConfigError: Unknown kind.
    """
    from core.plugins import kinds, load_registry

    selected = [kind] if kind is not None else kinds()
    out: dict[str, dict[str, str]] = {}
    for name in selected:
        registry = load_registry(name)
        out[name] = {
            label: registry.describe(entry) for label, entry in zip(registry.labels(), registry.names())
        }
    return out


def run(args: argparse.Namespace) -> int:
    listing = collect(args.kind)
    if args.json:
        print(json.dumps(listing, indent=2))
        return 0
    for kind, entries in listing.items():
        print(f"{kind} ({len(entries)})")
        width = max((len(name) for name in entries), default=0)
        for name, description in entries.items():
            print(f"  {name:<{width}}  {description}".rstrip())
    return 0
