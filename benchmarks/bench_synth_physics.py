"""CT throughput of the two synthetic engines (``draw`` and ``physics``) at 256 px.

Prints end-to-end CT slices per second (render + 16-bit PNG + manifest) with two worker
processes for each engine, and the ratio; the projector against scikit-image's ``radon`` /
``iradon``; then the physics engine's render-only time per slice in one process with the share
of forward projection and filtered back-projection, which says what costs.
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


def _projector_comparison(views: int = 180) -> str:
    """Forward projection + FBP of three 256 px images: this package versus scikit-image."""
    from skimage.transform import iradon, radon

    from training.synth.physics.projector import filtered_back_projection, forward_project, view_angles

    img = np.random.default_rng(0).random((SIZE, SIZE, 3)).astype(np.float32)
    filtered_back_projection(forward_project(img, views)[..., 0], SIZE)  # warm the caches
    t = time.perf_counter()
    sino = forward_project(img, views)
    fwd = time.perf_counter() - t
    t = time.perf_counter()
    filtered_back_projection(sino[..., 0], SIZE)
    back = time.perf_counter() - t
    angles = np.rad2deg(view_angles(views))
    t = time.perf_counter()
    sk = [radon(img[..., k], angles, circle=False) for k in range(3)]
    sk_fwd = time.perf_counter() - t
    t = time.perf_counter()
    iradon(sk[0], angles, circle=False, output_size=SIZE)
    sk_back = time.perf_counter() - t
    return (
        f"{views} views, ms: forward x3 {1e3 * fwd:.0f} (scikit-image {1e3 * sk_fwd:.0f}), "
        f"FBP {1e3 * back:.0f} (scikit-image {1e3 * sk_back:.0f})"
    )


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
    print("projector: " + _projector_comparison())
    split = _physics_split()
    print("physics, 1 process, ms per slice: " + ", ".join(f"{k} {v:.1f}" for k, v in split.items()))


if __name__ == "__main__":
    main()
