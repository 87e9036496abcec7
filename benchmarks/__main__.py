"""Run every benchmark module (``benchmarks/bench_*.py``) in turn; each prints its own figures."""

import importlib
import logging
import pkgutil
import sys

import benchmarks


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    only = sys.argv[1:]
    for info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda m: m.name):
        if not info.name.startswith("bench_") or (only and info.name not in only):
            continue
        print(f"\n== {info.name} ==", flush=True)
        importlib.import_module(f"benchmarks.{info.name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
