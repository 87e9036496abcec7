"""Training throughput of the default CT config: images per second through the shared loop.

Runs a few optimiser steps of the configured architecture at the configured input size on
random tensors (the model + loss + optimiser cost), then, when ``data/seed0`` exists, through
the real data pipeline (decode + augmentation + model). Prints one line per measurement.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

import torch

from training.config import apply_overrides
from training.loop import Trainer, seed_everything
from training.tasks.ct import CTTask, build_loss, build_model, load_ct_config, make_dataset, make_loader

log = logging.getLogger(__name__)

CONFIG = Path("training/configs/ct_default.yaml")
DATA = Path("data/seed0")
STEPS = 6


def _random_batches(n: int, batch_size: int, size: int) -> list[dict[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(0)
    return [
        {
            "image": torch.rand(batch_size, 1, size, size, generator=g),
            "meta": torch.randint(0, 2, (batch_size, 2), generator=g).float(),
            "label": torch.randint(0, 5, (batch_size,), generator=g),
        }
        for _ in range(n)
    ]


def _images_per_s(config, train_loader, val_loader) -> float:
    seed_everything(0)
    task = CTTask(build_model(config.model), build_loss(config.loss, [1] * 5), config)
    with tempfile.TemporaryDirectory() as tmp:
        summary = Trainer(task, config.train, tmp).fit(train_loader, val_loader)
    return summary.history[-1]["images_per_s"]


def main() -> None:
    """Print training images/s for the default CT config (model only, then with data loading)."""
    config = load_ct_config(
        CONFIG,
        {
            "train.epochs": 2,  # epoch 1 warms up (allocator, oneDNN kernels); epoch 2 is timed
            "train.max_steps_per_epoch": STEPS,
            "train.tensorboard": False,
            "train.progress_bar": False,
            "train.max_val_batches": 1,
        },
    )
    d = config.data
    batches = _random_batches(STEPS, d.batch_size, d.input_size)
    rate = _images_per_s(config, batches, batches[:1])
    print(
        f"ct {config.model.architecture} {d.input_size}px batch {d.batch_size}, "
        f"{torch.get_num_threads()} threads, random tensors: {rate:.1f} train images/s"
    )
    if (DATA / "manifest.csv").is_file():
        config = apply_overrides(config, {"data.limit": d.batch_size * (STEPS + 1)})
        train_set = make_dataset(DATA, "train", config.data, train=True)
        loader = make_loader(train_set, config.data, 0, train=True)
        start = time.perf_counter()
        rate = _images_per_s(config, loader, batches[:1])
        print(
            f"ct {config.model.architecture} with {DATA} decoding + augmentation: {rate:.1f} train images/s"
        )
        log.debug("data run took %.1fs", time.perf_counter() - start)
    else:
        print(f"({DATA} not found: skipped the data-pipeline measurement; run `python -m inspector synth`)")


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main()
