"""Render a dataset plan to disk: images, masks, ``manifest.csv`` and ``synth_config.json``."""

from __future__ import annotations

import json
import logging
import multiprocessing
import shutil
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from core.errors import InputError
from core.manifest import MANIFEST_NAME, write_manifest
from training.synth.config import SynthConfig
from training.synth.ct import create_battery
from training.synth.geometry import tight_boxes
from training.synth.physics.battery import PhysicsBattery, warm_up
from training.synth.plan import BatteryJob, make_plan
from training.synth.rgb_styles import create_rgb_battery
from training.synth.stamp import apply_stamp

log = logging.getLogger(__name__)

GENERATED_DIRS = ("ct", "ct_masks", "rgb", "rgb_masks")
CONFIG_NAME = "synth_config.json"
# Noise makes LZ matching useless on CT: run-length + Huffman after the "up" filter is about
# twice as fast as the default and as small (lossless either way).
PNG_FAST = [
    cv2.IMWRITE_PNG_COMPRESSION,
    1,
    cv2.IMWRITE_PNG_STRATEGY,
    cv2.IMWRITE_PNG_STRATEGY_RLE,
    cv2.IMWRITE_PNG_FILTER,
    cv2.IMWRITE_PNG_FILTER_UP,
]


def render_battery(
    seed: int,
    size: int,
    job: BatteryJob,
    engine: str = "draw",
    rgb_style: str = "flat",
    rgb_stations: tuple[str, ...] = (),
) -> list[tuple[np.ndarray, np.ndarray, list]]:
    """Render every image of one battery.

    Args:
        seed: Dataset seed.
        size: Image side.
        job: The battery and its images (labels, stamps already decided).
        engine: CT engine, ``draw`` or ``physics`` (RGB photos do not depend on it).
        rgb_style: RGB style preset (``flat``, ``photoreal``, ...).
        rgb_stations: Optional subset of the photoreal style's stations.

    Returns:
        One ``(image, mask, boxes, extras)`` per image of ``job``: CT images as uint16 ``[H, W]``,
        RGB as uint8 ``[H, W, 3]``, masks uint8 0/255, boxes as ``[x, y, w, h]`` lists.
    """
    ct = rgb = None
    out = []
    extras: dict = {}
    for im in job.images:
        rng = np.random.default_rng([seed, job.index, 2, im.number])
        if im.modality == "ct":
            if ct is None:
                ct_rng = np.random.default_rng([seed, job.index, 0])
                if engine == "physics":
                    ct = PhysicsBattery(job.battery_type, size, ct_rng)
                else:
                    ct = create_battery(job.battery_type, size, ct_rng)
            img, mask = ct.render(im.axis, im.pos, im.label, rng)
            if im.stamp:
                apply_stamp(img, rng)
            img = (img * 65535.0 + 0.5).astype(np.uint16)
        else:
            rgb = rgb or create_rgb_battery(
                rgb_style, rgb_stations, job.battery_type, size, np.random.default_rng([seed, job.index, 1])
            )
            img, mask = rgb.render(im.label, rng)
            extras = getattr(rgb, "manifest_extras", {})
        out.append(
            (img, mask, tight_boxes(mask) if mask.any() else [], extras if im.modality == "rgb" else {})
        )
    return out


def _write_battery(args: tuple[int, int, BatteryJob, str, str, str, tuple[str, ...]]) -> list[dict]:
    seed, size, job, root, engine, rgb_style, rgb_stations = args
    rows = []
    for im, (img, mask, boxes, extras) in zip(
        job.images, render_battery(seed, size, job, engine, rgb_style, rgb_stations)
    ):
        path = Path(root) / im.image_path
        cv2.imwrite(str(path), img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2BGR), PNG_FAST)
        if im.mask_path:
            cv2.imwrite(str(Path(root) / im.mask_path), mask, PNG_FAST)
        rows.append(
            {
                "image_path": im.image_path,
                "mask_path": im.mask_path,
                "modality": im.modality,
                "battery_id": job.battery_id,
                "battery_type": job.battery_type,
                "axis": im.axis,
                "slice_index": im.slice_index,
                "label": im.label,
                "is_defect": int(bool(im.mask_path)),
                "boxes": json.dumps(boxes),
                "split": job.split,
                "pair_id": im.pair_id,
                "stamp": im.stamp,
                "engine": engine,
                **extras,
            }
        )
    return rows


def prepare_out_dir(out: str | Path) -> Path:
    """Create ``out`` (or clear a previous synthetic dataset in it); fail clearly if impossible.

    Raises:
        InputError: ``out`` is a file, is a non-empty folder that is not a dataset, or is not
            writable.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} exists and is not a folder")
    ours = set(GENERATED_DIRS) | {MANIFEST_NAME, CONFIG_NAME}
    if out.is_dir() and not (out / MANIFEST_NAME).exists() and any(p.name not in ours for p in out.iterdir()):
        raise InputError(
            f"--out {out} is a non-empty folder that is not a synthetic dataset; choose an empty or new folder"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write_test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise InputError(f"--out {out} is not writable ({exc.strerror or exc})") from exc
    for name in GENERATED_DIRS:  # an earlier synthetic dataset: replace it
        if (out / name).is_dir():
            shutil.rmtree(out / name)
    return out


def generate(cfg: SynthConfig, out: str | Path) -> pd.DataFrame:
    """Generate the dataset described by ``cfg`` into ``out``.

    Args:
        cfg: A validated config.
        out: Target folder (created; a previous synthetic dataset in it is replaced).

    Returns:
        The manifest as written to ``out/manifest.csv``.
    """
    start = time.perf_counter()
    root = prepare_out_dir(out)
    plan = make_plan(cfg)
    for folder in {
        str(Path(p).parent) for b in plan for im in b.images for p in (im.image_path, im.mask_path) if p
    }:
        (root / folder).mkdir(parents=True, exist_ok=True)
    stations = tuple(cfg.rgb_stations)
    tasks = [(cfg.seed, cfg.size, job, str(root), cfg.engine, cfg.rgb_style, stations) for job in plan]
    if cfg.engine == "physics" and cfg.with_ct:
        warm_up()  # import spectrum/attenuation libraries once, before the workers fork
    if cfg.workers > 1 and len(tasks) > 1:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(cfg.workers) as pool:
            results = pool.map(_write_battery, tasks, chunksize=1)
    else:
        results = [_write_battery(t) for t in tasks]
    df = pd.DataFrame([row for rows in results for row in rows])
    write_manifest(df, root)
    (root / CONFIG_NAME).write_text(json.dumps(cfg.to_dict(), indent=2))
    log.info("wrote %d images to %s in %.1f s", len(df), root, time.perf_counter() - start)
    return df
