"""An out-of-distribution CT test set: what the "needs review" flag must catch.

``python -m inspector synth-ood --out DIR --from DATA [--seed N] [--per-case N]`` writes
``DIR/ood.csv`` (``image_path, case, battery_type, axis``) and the images, one group per case:

===========================  ================================================================
case                         images
===========================  ================================================================
``noise``                    uniform, Gaussian and salt-and-pepper noise, 8- and 16-bit
``blank``                    all zero, all max, mid grey, and a float TIFF full of NaN
``rgb_as_ct``                colour RGB photos of batteries (from ``DATA``) handed over as CT
``non_battery``              scikit-image's sample pictures (camera, coins, moon, text, ...),
                             the Shepp-Logan head phantom and random ellipse phantoms
``severe_artefacts``         real slices of ``DATA`` buried in streaks, rings and heavy noise
``metadata_contradiction``   real cell slices sent as "module" and module slices as "cell"
===========================  ================================================================

The battery slices come from ``DATA``'s test split, so nothing here was seen in training.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from core.errors import InputError
from core.manifest import read_manifest

log = logging.getLogger(__name__)

__all__ = ["OOD_CASES", "OOD_MANIFEST", "make_ood_set"]

OOD_MANIFEST = "ood.csv"
OOD_CASES = ("noise", "blank", "rgb_as_ct", "non_battery", "severe_artefacts", "metadata_contradiction")


def _u16(image: np.ndarray) -> np.ndarray:
    return (np.clip(image, 0, 1) * 65535 + 0.5).astype(np.uint16)


def _noise(rng: np.random.Generator, size: int, k: int) -> np.ndarray:
    kind = k % 3
    if kind == 0:
        return rng.random((size, size))
    if kind == 1:
        return np.clip(rng.normal(rng.uniform(0.3, 0.7), rng.uniform(0.1, 0.3), (size, size)), 0, 1)
    return (rng.random((size, size)) < rng.uniform(0.2, 0.8)).astype(np.float64)


def _ellipse_phantom(rng: np.random.Generator, size: int) -> np.ndarray:
    img = np.zeros((size, size), np.float32)
    for _ in range(int(rng.integers(3, 9))):
        centre = (int(rng.uniform(0.2, 0.8) * size), int(rng.uniform(0.2, 0.8) * size))
        axes = (int(rng.uniform(0.05, 0.35) * size), int(rng.uniform(0.05, 0.35) * size))
        cv2.ellipse(img, centre, axes, float(rng.uniform(0, 180)), 0, 360, float(rng.uniform(0.2, 1.0)), -1)
    return cv2.GaussianBlur(img, (0, 0), 1.0) + rng.normal(0, 0.02, img.shape).astype(np.float32)


def _sample_pictures(size: int) -> list[np.ndarray]:
    """Grey pictures that ship with scikit-image (no download), resized to ``size``."""
    from skimage import color, data

    out = []
    for name in ("camera", "coins", "moon", "text", "page", "horse", "clock", "grass", "gravel", "brick"):
        try:
            picture = getattr(data, name)()
        except Exception as exc:  # noqa: BLE001  (a missing bundled file must not stop the set)
            log.warning("skimage sample %s unavailable: %s", name, exc)
            continue
        picture = np.asarray(picture, np.float64)
        if picture.ndim == 3:
            picture = color.rgb2gray(picture[..., :3])
        picture = (picture - picture.min()) / max(picture.max() - picture.min(), 1e-9)
        out.append(cv2.resize(picture.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA))
    out.append(cv2.resize(data.shepp_logan_phantom().astype(np.float32), (size, size), interpolation=cv2.INTER_AREA))
    return out


def _severe(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = image.shape
    out = image.astype(np.float32) + rng.normal(0, rng.uniform(0.25, 0.4), image.shape).astype(np.float32)
    for _ in range(int(rng.integers(6, 12))):
        angle = rng.uniform(0, np.pi)
        c = (rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h)
        d = (np.cos(angle) * 2 * w, np.sin(angle) * 2 * h)
        line = np.zeros_like(out)
        cv2.line(line, (int(c[0] - d[0]), int(c[1] - d[1])), (int(c[0] + d[0]), int(c[1] + d[1])), 1.0, 3)
        out += line * rng.choice([-1, 1]) * rng.uniform(0.5, 1.0)
    return np.clip(out, 0, 1)


def make_ood_set(out: str | Path, source: str | Path, seed: int = 0, per_case: int = 20) -> pd.DataFrame:
    """Write the OOD set into ``out`` (see the module docstring).

    Args:
        out: Target folder (created).
        source: A dataset with CT test slices and RGB photos (``synth --modality both``).
        seed: Seed of every random choice.
        per_case: Images per case.

    Returns:
        The ``ood.csv`` table.

    Raises:
        InputError: ``source`` lacks CT test slices of both battery types or RGB photos.
    """
    out, source = Path(out), Path(source)
    rng = np.random.default_rng(seed)
    df = read_manifest(source)
    ct = df[(df["modality"] == "ct") & (df["split"] == "test")]
    rgb = df[df["modality"] == "rgb"]
    if ct.empty or rgb.empty or ct["battery_type"].nunique() < 2:
        raise InputError(f"{source} needs CT test slices of cells and modules and RGB photos for the OOD set")
    size = int(cv2.imread(str(source / ct.iloc[0]["image_path"]), cv2.IMREAD_UNCHANGED).shape[0])
    (out / "images").mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []

    def add(case: str, k: int, image: np.ndarray, battery_type: str, axis: str, ext: str = "png") -> None:
        rel = f"images/{case}_{k:03d}.{ext}"
        if ext == "tif":
            import tifffile

            tifffile.imwrite(out / rel, image.astype(np.float32))
        else:
            cv2.imwrite(str(out / rel), image)
        rows.append({"image_path": rel, "case": case, "battery_type": battery_type, "axis": axis})

    meta = [("cell", "y"), ("cell", "x"), ("module", "y"), ("module", "x")]
    for k in range(per_case):
        bt, ax = meta[k % 4]
        noise = _noise(rng, size, k)
        add("noise", k, _u16(noise) if k % 2 else (noise * 255).astype(np.uint8), bt, ax)
    for k in range(per_case):
        bt, ax = meta[k % 4]
        if k % 4 == 3:
            add("blank", k, np.full((size, size), np.nan, np.float32), bt, ax, ext="tif")
        else:
            add("blank", k, np.full((size, size), (0, 65535, 32768)[k % 4], np.uint16), bt, ax)
    for k, (_, row) in enumerate(rgb.sample(per_case, random_state=seed, replace=len(rgb) < per_case).iterrows()):
        photo = cv2.imread(str(source / row["image_path"]), cv2.IMREAD_COLOR)
        add("rgb_as_ct", k, photo, *meta[k % 4])
    pictures = _sample_pictures(size)
    for k in range(per_case):
        image = pictures[k] if k < len(pictures) else _ellipse_phantom(rng, size)
        add("non_battery", k, _u16(image), *meta[k % 4])
    for k, (_, row) in enumerate(ct.sample(per_case, random_state=seed + 1, replace=len(ct) < per_case).iterrows()):
        slice_ = cv2.imread(str(source / row["image_path"]), cv2.IMREAD_UNCHANGED).astype(np.float32) / 65535.0
        add("severe_artefacts", k, _u16(_severe(slice_, rng)), row["battery_type"], row["axis"])
    for k in range(per_case):
        wanted = "cell" if k % 2 == 0 else "module"
        pool = ct[ct["battery_type"] == wanted]
        row = pool.iloc[int(rng.integers(len(pool)))]
        slice_ = cv2.imread(str(source / row["image_path"]), cv2.IMREAD_UNCHANGED)
        add("metadata_contradiction", k, slice_, "module" if wanted == "cell" else "cell", row["axis"])
    table = pd.DataFrame(rows)
    table.to_csv(out / OOD_MANIFEST, index=False)
    log.info("wrote %d OOD images (%d cases) to %s", len(table), len(OOD_CASES), out)
    return table
