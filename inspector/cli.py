"""The ``python -m inspector`` command line.

Each sub-command lives in its own module under :mod:`inspector.commands` and exposes
``add_parser(subparsers)`` and ``run(args) -> int``. Modules are imported lazily so that
``--help`` and light commands stay fast and a broken optional dependency only affects the
command that needs it.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from core.errors import InspectorError
from core.redact import install_log_redaction, redact

log = logging.getLogger(__name__)

# name -> module under inspector.commands
COMMANDS: dict[str, str] = {
    "synth": "inspector.commands.synth",
    "synth-ood": "inspector.commands.synth_ood",
    "fit-review": "inspector.commands.fit_review",
    "fit-calibration": "inspector.commands.fit_calibration",
    "fit": "inspector.commands.fit",
    "train": "inspector.commands.train",
    "evaluate": "inspector.commands.evaluate",
    "inspect": "inspector.commands.inspect",
    "batch": "inspector.commands.batch",
    "compare": "inspector.commands.compare",
    "ablate": "inspector.commands.ablate",
    "list": "inspector.commands.list",
    "serve": "inspector.commands.serve",
    "export": "inspector.commands.export",
    "calibrate": "inspector.commands.calibrate",
}


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line and exit with status 2."""

    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        self.exit(2, f"error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every available sub-command."""
    parser = _Parser(prog="python -m inspector", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module_name in COMMANDS.values():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("inspector.commands"):
                continue  # command not built yet
            raise
        module.add_parser(sub)
    return parser


def one_line(text: str) -> str:
    """``text`` as one line: line breaks become spaces, other control characters ``?``."""
    flat = " ".join(str(text).splitlines())
    return "".join(ch if ch.isprintable() else "?" for ch in flat)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the process exit status. Never lets a traceback reach the user."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    install_log_redaction()
    try:
        return int(args.func(args) or 0)
    except InspectorError as exc:
        print(f"error: {one_line(redact(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # last resort: one line for the user, the traceback in debug logs
        log.debug("unhandled error", exc_info=True)
        print(f"error: {type(exc).__name__}: {one_line(redact(exc))}", file=sys.stderr)
        return 1
