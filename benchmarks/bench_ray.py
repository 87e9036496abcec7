"""Ray batch engine: 2 actors vs 1 actor on the same items (local cluster, 2 CPUs).

Each run starts a local cluster with that many CPUs and inspects :data:`N_ITEMS` CT + RGB
pairs built from the shipped assets. Throughput is counted from the first record to the last
(actor start-up and model loading excluded: they are paid once per job, not per item).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from inspector.pairs import BatchItem
from inspector.settings import InspectorSettings

log = logging.getLogger(__name__)

N_ITEMS = 40
GOAL = 1.6


def _items() -> list[BatchItem]:
    root = Path(__file__).resolve().parent.parent / "assets"
    cts, rgbs = sorted((root / "ct").glob("*.png")), sorted((root / "rgb").glob("*.png"))
    return [
        BatchItem(id=f"pair{i}", ct_path=cts[i % len(cts)], rgb_path=rgbs[i % len(rgbs)], battery_type="cell", axis="x")
        for i in range(N_ITEMS)
    ]


def _throughput(workers: int, runtime: str) -> float:
    from inspector.commands._batch_ray import run_ray

    settings = InspectorSettings(runtime=runtime, vlm=None, vlg=None)
    stamps = [time.perf_counter() for _ in run_ray(_items(), settings, ("ct", "rgb"), workers=workers)]
    return (len(stamps) - 1) / (stamps[-1] - stamps[0])


def main(runtime: str = "onnx") -> dict[str, float]:
    """Print and return pairs/s with 1 and 2 actors and their ratio."""
    one = _throughput(1, runtime)
    two = _throughput(2, runtime)
    print(f"ray batch, {N_ITEMS} CT+RGB pairs, runtime {runtime} (CPU shared with other jobs, nice'd)")
    print(f"  1 actor : {one:6.2f} pairs/s\n  2 actors: {two:6.2f} pairs/s")
    print(f"  2 / 1   : {two / one:.2f}x (goal >= {GOAL}x)")
    return {"one": one, "two": two, "ratio": two / one}


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main()
