"""Ray batch engine: 2 actors vs 1 actor on the same items (local cluster, 2 CPUs).

Each run starts a local cluster with that many CPUs and inspects CT + RGB pairs built from the
shipped assets. Throughput is the difference of two job sizes, ``(N_LARGE - N_SMALL) / (wall of
N_LARGE - wall of N_SMALL)``: cluster and actor start-up and model loading are paid by both and
cancel. (Counting from the first record to the last, as before, is wrong with Ray Data: records
arrive a block at a time, so the first block's work falls outside the window and a job of few
blocks looks several times faster than it is.)
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from inspector.pairs import BatchItem
from inspector.settings import InspectorSettings

log = logging.getLogger(__name__)

N_SMALL, N_LARGE = 40, 800
GOAL = 1.6


def _items(n: int) -> list[BatchItem]:
    root = Path(__file__).resolve().parent.parent / "assets"
    cts, rgbs = sorted((root / "ct").glob("*.png")), sorted((root / "rgb").glob("*.png"))
    return [
        BatchItem(id=f"pair{i}", ct_path=cts[i % len(cts)], rgb_path=rgbs[i % len(rgbs)], battery_type="cell", axis="x")
        for i in range(n)
    ]


def _wall(workers: int, runtime: str, n: int) -> float:
    """Seconds from starting a Ray job of ``n`` pairs to its last record."""
    from inspector.commands._batch_ray import run_ray

    settings = InspectorSettings(runtime=runtime, vlm=None, vlg=None)
    start = time.perf_counter()
    count = sum(1 for _ in run_ray(_items(n), settings, ("ct", "rgb"), workers=workers))
    if count != n:
        raise RuntimeError(f"ray returned {count} records for {n} pairs")
    return time.perf_counter() - start


def _throughput(workers: int, runtime: str) -> float:
    """Pairs/s of ``workers`` actors with start-up cancelled out (two job sizes)."""
    small, large = _wall(workers, runtime, N_SMALL), _wall(workers, runtime, N_LARGE)
    log.info("%d actor(s): %d pairs %.1f s, %d pairs %.1f s", workers, N_SMALL, small, N_LARGE, large)
    return (N_LARGE - N_SMALL) / max(large - small, 1e-6)


def main(runtime: str = "onnx") -> dict[str, float]:
    """Print and return pairs/s with 1 and 2 actors and their ratio."""
    one = _throughput(1, runtime)
    two = _throughput(2, runtime)
    print(f"ray batch, CT+RGB pairs ({N_LARGE} minus {N_SMALL}), runtime {runtime}")
    print(f"  1 actor : {one:6.2f} pairs/s\n  2 actors: {two:6.2f} pairs/s")
    print(f"  2 / 1   : {two / one:.2f}x (goal >= {GOAL}x)")
    return {"one": one, "two": two, "ratio": two / one}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
