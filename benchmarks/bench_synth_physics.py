"""CT throughput of the two synthetic engines (``draw`` and ``physics``) at 256 px.

Prints end-to-end CT slices per second (render + 16-bit PNG + manifest) with two worker
processes for each engine, and the ratio; then the physics engine's render-only time split per
slice in one process (phantom, projection, acquisition, reconstruction), which says what costs.
"""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np

from training.synth import generate, load_config

SIZE = 256
BATTERIES = 8
PER_BATTERY = 24


def _slices_per_second(engine: str, workers: int = 2) -> float:
    cfg = load_config(
        size=SIZE,
        batteries=BATTERIES,
        modality="ct",
        ct_per_battery=PER_BATTERY,
        workers=workers,
        engine=engine,
    )
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        n = len(generate(cfg, tmp))
        return n / (time.perf_counter() - start)


def _physics_split(slices: int = 24) -> dict[str, float]:
    """Mean milliseconds per slice of each stage (one process)."""
    from training.synth.physics import projector
    from training.synth.physics.battery import PhysicsBattery

    spent = {"forward_project": 0.0, "filtered_back_projection": 0.0}
    originals = {name: getattr(projector, name) for name in spent}

    def timed(name):
        def run(*args, **kwargs):
            t = time.perf_counter()
            out = originals[name](*args, **kwargs)
            spent[name] += time.perf_counter() - t
            return out

        return run

    import training.synth.physics.scanner as scanner

    scanner.forward_project, scanner.filtered_back_projection = (timed(n) for n in spent)
    try:
        total = 0.0
        for k in range(slices):
            b = PhysicsBattery("cell" if k % 2 else "module", SIZE, np.random.default_rng(k))
            b.render("y", 0.5, "cell_normal" if k % 2 else "module_normal", np.random.default_rng(0))  # warm
            t = time.perf_counter()
            b.render("x", 0.4, "cell_porosity" if k % 2 else "module_porosity", np.random.default_rng(1))
            total += time.perf_counter() - t
    finally:
        scanner.forward_project, scanner.filtered_back_projection = originals.values()
    out = {name: 1e3 * v / (2 * slices) for name, v in spent.items()}  # each battery rendered twice
    out["total render"] = 1e3 * total / slices
    return out


def main() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    print(
        f"{SIZE} px CT, {BATTERIES} batteries x {PER_BATTERY} slices, load average {os.getloadavg()[0]:.1f}"
    )
    draw = _slices_per_second("draw")
    physics = _slices_per_second("physics")
    print(
        f"end to end, 2 workers: draw {draw:6.1f} slices/s   physics {physics:6.1f} slices/s   ratio {draw / physics:4.1f}x"
    )
    split = _physics_split()
    print("physics, 1 process, ms per slice: " + ", ".join(f"{k} {v:.1f}" for k, v in split.items()))


if __name__ == "__main__":
    main()
