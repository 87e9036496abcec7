"""Peak memory of one inspection of a huge image, above the idle (warmed-up) process.

Each case runs in its own Python process: it loads the models and inspects a small image once
(the idle state: models loaded, one inspection done), records the resident set size, then runs
``python -m inspector inspect`` in-process on the huge file and reads the process's peak RSS
(``getrusage(RUSAGE_SELF).ru_maxrss``). The figure is ``peak - idle`` in MB. The goal (issue 16)
is at most 1.5 GB whatever the image; ``tests/badinput/test_memory.py`` asserts it.

Usage: ``python -m benchmarks bench_memory`` (about a minute per case on this machine).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

GOAL_MB = 1536.0
"""At most 1.5 GB above idle."""


def _canvas(height: int, width: int, channels: int, dtype: type = np.uint8) -> np.ndarray:
    """A large image with structure (so it compresses below the upload limit but is not flat)."""
    top = 255 if dtype == np.uint8 else 65535
    shape = (height, width, channels) if channels > 1 else (height, width)
    image = np.full(shape, top // 3, dtype=dtype)
    image[height // 4 : height // 2, width // 4 : width // 2] = top // 2
    image[::97] = top * 3 // 4
    image[:, ::89] = top // 5
    return image


def _png(path: Path, image: np.ndarray) -> None:
    Image.fromarray(image).save(path, format="PNG", compress_level=6)


def _jpeg(path: Path, image: np.ndarray) -> None:
    Image.fromarray(image).save(path, format="JPEG", quality=80)


def _tiff(path: Path, image: np.ndarray) -> None:
    import tifffile

    tifffile.imwrite(path, image, compression="zlib")


#: name -> (modality, file name, writer). The sizes are the largest the decoder accepts
#: (about 40 MP, aspect up to 8:1) and the shapes the issue measured.
CASES: dict[str, tuple[str, str, Callable[[Path], None]]] = {
    "rgb_png_6300": ("rgb", "rgb6300.png", lambda p: _png(p, _canvas(6300, 6300, 3))),
    "rgb_jpeg_6300": ("rgb", "rgb6300.jpg", lambda p: _jpeg(p, _canvas(6300, 6300, 3))),
    "rgb_png_17800x2225": ("rgb", "rgb_wide.png", lambda p: _png(p, _canvas(2225, 17800, 3))),
    "ct_png16_6300": ("ct", "ct6300.png", lambda p: _png(p, _canvas(6300, 6300, 1, np.uint16))),
    "ct_tiff_float_6300": (
        "ct",
        "ctfloat.tif",
        lambda p: _tiff(p, _canvas(6300, 6300, 1, np.uint16).astype(np.float32) * 0.5),
    ),
    "ct_rgb_png_17800x2225": ("ct", "ct_wide.png", lambda p: _png(p, _canvas(2225, 17800, 3))),
}


def _rss_mb() -> float:
    """Current resident set size of this process in MB (Linux ``/proc/self/statm``)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KB on Linux


def _inspect(path: Path, modality: str) -> tuple[int, str]:
    from inspector.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([
            "inspect", f"--{modality}", str(path), "--battery-type", "cell", "--axis", "y", "--json",
        ])
    return code, err.getvalue().strip()


def child(path: Path, modality: str) -> dict:
    """In a fresh process: warm up on a small image, then inspect ``path``; the figures."""
    small = path.parent / f"warmup_{modality}.png"
    _png(small, _canvas(256, 256, 3 if modality == "rgb" else 1))
    code, err = _inspect(small, modality)
    if code != 0:
        raise RuntimeError(f"warm-up inspection failed: {err}")
    idle = _rss_mb()
    code, err = _inspect(path, modality)
    peak = _peak_mb()
    return {"idle_mb": round(idle, 1), "peak_mb": round(peak, 1), "delta_mb": round(peak - idle, 1),
            "exit": code, "error": err}


def measure(name: str, folder: Path, env: dict[str, str] | None = None, timeout: float = 540) -> dict:
    """Write case ``name`` under ``folder`` and measure it in a subprocess; its figures."""
    modality, filename, write = CASES[name]
    path = folder / filename
    if not path.exists():
        write(path)
    command = [sys.executable, "-m", "benchmarks.bench_memory", "--child", str(path), modality]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )
    if done.returncode != 0:
        raise RuntimeError(f"{name}: the measuring process failed:\n{done.stderr[-2000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return {"case": name, "modality": modality, "file_mb": round(path.stat().st_size / 2**20, 1), **figures}


def main() -> None:
    """Measure every case and print a table."""
    only = [a for a in sys.argv[1:] if a in CASES] or list(CASES)
    print(f"{'case':24} {'mod':4} {'file MB':>8} {'idle MB':>8} {'peak MB':>8} {'delta MB':>9}  result")
    with tempfile.TemporaryDirectory() as tmp:
        for name in only:
            row = measure(name, Path(tmp))
            result = "ok" if row["exit"] == 0 else f"refused: {row['error']}"
            flag = "" if row["delta_mb"] <= GOAL_MB else "  ABOVE GOAL"
            print(
                f"{name:24} {row['modality']:4} {row['file_mb']:8.1f} {row['idle_mb']:8.0f} "
                f"{row['peak_mb']:8.0f} {row['delta_mb']:9.0f}  {result}{flag}",
                flush=True,
            )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(child(Path(sys.argv[2]), sys.argv[3])))
    else:
        main()
