"""GAIN-MTL cost per strategy: seconds per epoch and images per second of every preset.

Trains each preset S1-S8 for two short epochs (a few optimiser steps each; the second epoch is
timed) on random images with random void masks at the base config's input size, and prints
one line per strategy plus the projected time of one ablation epoch over ``TRAIN_IMAGES``
training images. When an ablation result exists (``docs/ablation/results.json``) its measured
time per strategy and per epoch is printed as well.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from pathlib import Path

import torch

from training.ablation import CONFIG_DIR
from training.loop import Trainer, seed_everything
from training.tasks.gain import GainTask, load_gain_config, model_kwargs

log = logging.getLogger(__name__)

STRATEGIES = [f"S{i}" for i in range(1, 9)]
STEPS = 4
TRAIN_IMAGES = 1000
RESULTS = Path("docs/ablation/results.json")


def _batches(n: int, batch_size: int, size: int) -> list[dict[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(0)
    batches = []
    for _ in range(n):
        mask = torch.zeros(batch_size, 1, size, size)
        is_defect = torch.arange(batch_size) % 2
        for i in range(0, batch_size, 2):
            y, x = torch.randint(8, size - 8, (2,), generator=g).tolist()
            mask[i, 0, y - 2 : y + 2, x - 2 : x + 2] = 1
        image = torch.rand(batch_size, 1, size, size, generator=g) * (1 - 0.8 * mask)
        batches.append({"image": image, "mask": mask, "is_defect": is_defect})
    return batches


def main() -> None:
    """Print seconds per epoch and images/s of every strategy preset."""
    from models.gain_mtl import create_gain_model

    for strategy in STRATEGIES:
        config = load_gain_config(
            CONFIG_DIR / f"{strategy}.yaml",
            {"train.epochs": 2, "train.progress_bar": False, "train.max_val_batches": 1},
        )
        d = config.data
        train_batches = _batches(STEPS, d.batch_size, d.input_size)
        seed_everything(0)
        task = GainTask(create_gain_model(**model_kwargs(config.model)), config)
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            summary = Trainer(task, config.train, tmp).fit(train_batches, train_batches[:1])
        ips = summary.history[-1]["images_per_s"]
        print(
            f"{strategy}: {ips:6.1f} img/s at {d.input_size} px -> {TRAIN_IMAGES / ips:6.1f} s/epoch "
            f"over {TRAIN_IMAGES} images (bench {time.perf_counter() - start:.1f} s)",
            flush=True,
        )
    if RESULTS.is_file():
        summary = json.loads(RESULTS.read_text())
        print(f"\nmeasured in {RESULTS}:")
        total = 0.0
        for strategy, entry in summary["strategies"].items():
            total += entry["seconds"] * len(entry["seeds"])
            print(f"{strategy}: {entry['seconds']:.0f} s per run, {entry['seconds_per_epoch']:.1f} s/epoch")
        print(f"whole ablation: {total / 60:.1f} min of training runs", end="")
        if summary.get("wall_seconds"):
            print(f", {summary['wall_seconds'] / 60:.1f} min wall with {summary.get('workers', 1)} worker(s)")
        else:
            print()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main()
