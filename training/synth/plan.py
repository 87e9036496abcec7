"""The dataset plan: which batteries exist, their splits, and every image's label and stamp.

The plan is cheap and fully decided by the config (and its seed) before any pixel is drawn,
so rendering can run in any number of worker processes and still give identical files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.manifest import CT_LABELS, RGB_LABELS, SPLITS, is_defect_label
from training.synth.config import SynthConfig

BATTERY_TYPES = ("cell", "module")


@dataclass
class ImageJob:
    """One image to render (and its manifest row)."""

    modality: str
    label: str
    image_path: str
    mask_path: str
    axis: str = ""
    slice_index: int = 0
    pos: float = 0.5
    stamp: int = 0
    pair_id: str = ""
    number: int = 0  # index within the battery, seeds the image's generator


@dataclass
class BatteryJob:
    """One battery and all the images to render of it."""

    index: int
    battery_id: str
    battery_type: str
    split: str
    images: list[ImageJob] = field(default_factory=list)


def _largest_remainder(total: int, shares: np.ndarray, min_one: bool) -> np.ndarray:
    """Integer counts summing to ``total`` in proportion to ``shares`` (at least 1 each if asked)."""
    shares = shares / shares.sum()
    counts = np.floor(shares * total).astype(int)
    order = np.argsort(-(shares * total - counts))
    counts[order[: total - counts.sum()]] += 1
    if min_one and total >= int((shares > 0).sum()):
        for k in np.flatnonzero((counts == 0) & (shares > 0)):
            donor = int(np.argmax(counts))
            counts[donor] -= 1
            counts[k] += 1
    return counts


def _split_counts(n: int, ratios: dict[str, float]) -> dict[str, int]:
    """Batteries per split; every split with a positive ratio gets one when ``n`` allows."""
    names = [k for k in ("train", "val", "test") if ratios.get(k, 0) > 0]
    counts = _largest_remainder(n, np.array([ratios[k] for k in names], float), min_one=True)
    return dict(zip(names, (int(c) for c in counts)))


def _assign_labels(
    slots: list[tuple[int, ImageJob]],
    labels: tuple[str, ...],
    shares: dict[str, float],
    weights: dict[int, np.ndarray],
    rng: np.random.Generator,
) -> None:
    """Give each slot a label so the group matches ``shares``; defects cluster in some batteries.

    Args:
        slots: ``(battery_index, image)`` pairs of one split (and battery type).
        labels: Candidate labels, normal first.
        shares: Target share of each label.
        weights: Per battery, a defect propensity per defect label (same order as ``labels[1:]``).
        rng: Random generator.
    """
    if not slots:
        return
    share = np.array([shares.get(lbl, 0.0) for lbl in labels], float)
    if share.sum() <= 0:
        share[0] = 1.0
    counts = _largest_remainder(len(slots), share, min_one=True)
    free = np.ones(len(slots), bool)
    for j in range(1, len(labels)):  # rarest defect first keeps it spread over batteries
        if counts[j] == 0:
            continue
        w = np.array([weights[b][j - 1] for b, _ in slots]) * free
        pick = rng.choice(len(slots), size=counts[j], replace=False, p=w / w.sum())
        for k in pick:
            slots[k][1].label = labels[j]
        free[pick] = False
    for k in np.flatnonzero(free):
        slots[k][1].label = labels[0]


def make_plan(cfg: SynthConfig) -> list[BatteryJob]:
    """Decide batteries, splits, labels, stamps and pairs for ``cfg``.

    Args:
        cfg: A validated config.

    Returns:
        Battery jobs in a stable order.
    """
    rng = np.random.default_rng([cfg.seed, 7])
    batteries = _batteries(cfg, rng)
    for b in batteries:
        _add_images(b, cfg, rng)
    _assign_all_labels(batteries, cfg, rng)
    for b in batteries:
        _stamps_and_pairs(b, cfg, rng)
    return batteries


def _batteries(cfg: SynthConfig, rng: np.random.Generator) -> list[BatteryJob]:
    """Batteries per type (from the CT label shares) and per split, in shuffled id order."""
    type_share = np.array(
        [sum(float(v) for k, v in cfg.ct_proportions.items() if k.startswith(t + "_")) for t in BATTERY_TYPES]
    )
    n_types = _largest_remainder(cfg.batteries, type_share, min_one=cfg.batteries >= 2)
    with_shift = cfg.shortcut > 0 and cfg.with_ct
    batteries: list[BatteryJob] = []
    for t, n in zip(BATTERY_TYPES, n_types):
        splits = _split_counts(int(n), cfg.split_ratios)
        if with_shift and n > 0:
            splits["test_shift"] = max(1, round(n * cfg.test_shift_fraction))
        for split, count in splits.items():
            batteries += [BatteryJob(0, "", t, split) for _ in range(count)]
    batteries = [batteries[i] for i in rng.permutation(len(batteries))]  # interleave types
    for i, b in enumerate(batteries):
        b.index = i
        b.battery_id = f"s{cfg.seed}-{b.battery_type}-{i:04d}"
    return batteries


def _add_images(b: BatteryJob, cfg: SynthConfig, rng: np.random.Generator) -> None:
    """CT slices (y axis first, then x) and RGB photos of one battery, not yet labelled."""
    number = 0
    if cfg.with_ct:
        n_y = round(cfg.ct_per_battery * cfg.axis_y_fraction)
        for axis, n_axis in (("y", n_y), ("x", cfg.ct_per_battery - n_y)):
            for k in range(n_axis):
                stem = f"{b.battery_id}_{axis}{k:03d}"
                pos = (k + rng.uniform(0.2, 0.8)) / n_axis
                image, mask = f"ct/{b.split}/{stem}.png", f"ct_masks/{b.split}/{stem}.png"
                b.images.append(ImageJob("ct", "", image, mask, axis, k, pos, number=number))
                number += 1
    if cfg.with_rgb and b.split != "test_shift":
        for k in range(cfg.rgb_per_battery):
            stem = f"{b.battery_id}_rgb{k:02d}"
            image, mask = f"rgb/{b.split}/{stem}.png", f"rgb_masks/{b.split}/{stem}.png"
            b.images.append(ImageJob("rgb", "", image, mask, "", k, number=number))
            number += 1


def _assign_all_labels(batteries: list[BatteryJob], cfg: SynthConfig, rng: np.random.Generator) -> None:
    """Labels per split (and battery type for CT), defects concentrated in defect-prone batteries."""
    ct_weights = {b.index: rng.gamma(0.8, 1.0, len(CT_LABELS)) + 0.15 for b in batteries}
    rgb_weights = {b.index: rng.gamma(1.0, 1.0, len(RGB_LABELS)) + 0.2 for b in batteries}
    for split in SPLITS:
        group = [b for b in batteries if b.split == split]
        for t in BATTERY_TYPES:
            labels = tuple(lbl for lbl in CT_LABELS if lbl.startswith(t + "_"))
            columns = [CT_LABELS.index(lbl) for lbl in labels[1:]]
            slots = [
                (b.index, im) for b in group if b.battery_type == t for im in b.images if im.modality == "ct"
            ]
            _assign_labels(
                slots, labels, cfg.ct_proportions, {b.index: ct_weights[b.index][columns] for b in group}, rng
            )
        slots = [(b.index, im) for b in group for im in b.images if im.modality == "rgb"]
        weights = {b.index: rgb_weights[b.index][1:] for b in group}
        _assign_labels(slots, RGB_LABELS, cfg.rgb_proportions, weights, rng)


def _stamps_and_pairs(b: BatteryJob, cfg: SynthConfig, rng: np.random.Generator) -> None:
    """Drop masks of normal images, draw the shortcut stamp, pair CT slices with RGB photos."""
    for im in b.images:
        if not is_defect_label(im.label):
            im.mask_path = ""
        if im.modality == "ct" and cfg.shortcut > 0:
            if b.split == "test_shift":  # the stamp says nothing about the label here
                p = 0.5
            else:
                p = cfg.shortcut if is_defect_label(im.label) else 1 - cfg.shortcut
            im.stamp = int(rng.random() < p)
    ct = [im for im in b.images if im.modality == "ct"]
    rgb = [im for im in b.images if im.modality == "rgb"]
    n_pairs = min(len(ct), len(rgb))
    for k, c in enumerate(rng.permutation(len(ct))[:n_pairs]):
        ct[c].pair_id = rgb[k].pair_id = f"{b.battery_id}-p{k:02d}"
