"""Synthetic generator throughput: CT and RGB images per second at 256 px.

Prints render-only figures for one process, then end-to-end figures (render + PNG + manifest)
for one process and for two worker processes. Single-process lines also give images per CPU
second, which stays meaningful when other jobs share the machine.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable

from training.synth import generate, load_config
from training.synth.generator import render_battery
from training.synth.plan import make_plan

SIZE = 256


def _timed(fn: Callable[[], int]) -> tuple[float, float]:
    """``(images per wall second, images per CPU second of this process)``."""
    wall, cpu = time.perf_counter(), time.process_time()
    n = fn()
    return n / (time.perf_counter() - wall), n / max(time.process_time() - cpu, 1e-9)


def _render(modality: str, batteries: int = 8) -> int:
    cfg = load_config(size=SIZE, batteries=batteries, modality=modality, workers=0)
    jobs = make_plan(cfg)
    for job in jobs:
        render_battery(cfg.seed, cfg.size, job)
    return sum(len(j.images) for j in jobs)


def _generate(modality: str, workers: int, batteries: int = 16) -> int:
    cfg = load_config(size=SIZE, batteries=batteries, modality=modality, workers=workers)
    with tempfile.TemporaryDirectory() as tmp:
        return len(generate(cfg, tmp))


def main() -> None:
    _render("ct", batteries=1)  # warm-up (imports, caches)
    print(f"{SIZE} px, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for name, fn in (("render only", _render), ("end to end ", lambda m: _generate(m, 0))):
        (ct, ct_cpu), (rgb, rgb_cpu) = _timed(lambda f=fn: f("ct")), _timed(lambda f=fn: f("rgb"))
        print(
            f"{name}, 1 process : CT {ct:6.1f} img/s ({ct_cpu:6.1f} per CPU-s)   "
            f"RGB {rgb:6.1f} img/s ({rgb_cpu:6.1f} per CPU-s)"
        )
    ct, rgb = _timed(lambda: _generate("ct", 2))[0], _timed(lambda: _generate("rgb", 2))[0]
    print(
        f"end to end , 2 workers : CT {ct:6.1f} img/s   RGB {rgb:6.1f} img/s  (render + 16-bit PNG + manifest)"
    )


if __name__ == "__main__":
    main()
