"""RGB photo throughput of each RGB style (``flat`` vs ``photoreal`` ...) at 256 px.

Prints render-only photos per second in one process (wall and per CPU second, which stays
meaningful when other jobs share the machine) for every style, then end to end (render +
PNG + manifest) with two worker processes for ``flat`` and ``photoreal``.
"""

from __future__ import annotations

import os
import tempfile
import time

from training.synth import generate, load_config
from training.synth.generator import render_battery
from training.synth.plan import make_plan
from training.synth.rgb_styles import RGB_STYLES

SIZE = 256
BATTERIES = 12
PER_BATTERY = 8


def _render(style: str) -> tuple[float, float]:
    """``(photos per wall second, photos per CPU second)`` rendering only, one process."""
    cfg = load_config(size=SIZE, batteries=BATTERIES, modality="rgb", rgb_per_battery=PER_BATTERY, workers=0)
    jobs = make_plan(cfg)
    wall, cpu = time.perf_counter(), time.process_time()
    for job in jobs:
        render_battery(cfg.seed, cfg.size, job, rgb_style=style)
    n = sum(len(j.images) for j in jobs)
    return n / (time.perf_counter() - wall), n / max(time.process_time() - cpu, 1e-9)


def _end_to_end(style: str, workers: int = 2) -> float:
    cfg = load_config(
        size=SIZE,
        batteries=BATTERIES,
        modality="rgb",
        rgb_per_battery=PER_BATTERY,
        workers=workers,
        rgb_style=style,
    )
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        n = len(generate(cfg, tmp))
        return n / (time.perf_counter() - start)


def main() -> None:
    _render("photoreal")  # warm-up (imports, caches)
    print(f"{SIZE} px, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for style in RGB_STYLES:
        wall, cpu = _render(style)
        print(f"render only, 1 process : {style:18s} {wall:6.1f} photos/s ({cpu:6.1f} per CPU-s)")
    for style in ("flat", "photoreal"):
        print(
            f"end to end , 2 workers : {style:18s} {_end_to_end(style):6.1f} photos/s  (render + PNG + manifest)"
        )


if __name__ == "__main__":
    main()
