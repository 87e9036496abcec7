"""``train rgb`` / ``evaluate rgb``: the ConvAutoEncoder anomaly detector of seed 002 §2 and §2-1.

Recipe: the autoencoder learns to reconstruct *normal* photos only (defects in the train split
are dropped), with an MSE loss, through the shared :class:`training.loop.Trainer`. With
``corrupt.p > 0`` it is a denoising autoencoder: the input is a normal photo with synthetic
stains/strokes/spots drawn on it (:mod:`training.anomaly.corruptions`) and the target the clean
photo, so it learns to remove what does not look normal; a DRAEM model's head also learns to
segment the drawn corruptions (BCE, plus soft Dice with ``corrupt.dice``). With ``data.crop`` the
photo is first cut down to the battery (:class:`training.anomaly.RGBCrop`, the same crop at run
time) and the corruptions are drawn inside the battery box. Each epoch is
validated on the normals *and* defects of the val split: the monitor is the val ROC-AUC of the
anomaly score. After training, the best weights score the val split once more and
:func:`training.anomaly.youden_threshold` picks the threshold there (never on train, never on
test); the card stores it with the score method and the statistics the runtime needs, and the
test split, if present, is scored with that fixed threshold.

Example::

    python -m inspector train rgb --config training/configs/rgb_draem.yaml --data data/seed0 --out runs/rgb
    python -m inspector evaluate rgb --checkpoint runs/rgb/best.safetensors --data data/seed1 \
        --json runs/rgb/eval.json --report runs/rgb/report

The package is split by responsibility; every name is importable from ``training.tasks.rgb``:

- :mod:`~training.tasks.rgb.config`: the YAML schema (``RGBConfig``) and the crop it asks for;
- :mod:`~training.tasks.rgb.data`: :class:`RGBImages` and its loader;
- :mod:`~training.tasks.rgb.task`: :class:`RGBAnomalyTask` and the score statistics of the card;
- :mod:`~training.tasks.rgb.scoring`: scores of a batch or a split, recall per RGB label;
- :mod:`~training.tasks.rgb.fit`: training, the val threshold and the test scores;
- :mod:`~training.tasks.rgb.evaluation`: evaluation of a checkpoint on a split;
- :mod:`~training.tasks.rgb.report`: the Markdown report and its figures;
- :mod:`~training.tasks.rgb.cli`: the ``train rgb`` / ``evaluate rgb`` entry points.
"""

from __future__ import annotations

from training.tasks.rgb.cli import evaluate_from_cli, train_from_cli
from training.tasks.rgb.config import (
    CLASS_NAMES,
    AEModelConfig,
    RGBConfig,
    RGBDataConfig,
    data_crop,
    load_rgb_config,
)
from training.tasks.rgb.data import RGBImages
from training.tasks.rgb.evaluation import evaluate_checkpoint
from training.tasks.rgb.fit import train
from training.tasks.rgb.report import write_report
from training.tasks.rgb.scoring import per_type_recall, score_batch, score_dataset
from training.tasks.rgb.task import RGBAnomalyTask, score_statistics

__all__ = [
    "CLASS_NAMES",
    "AEModelConfig",
    "RGBAnomalyTask",
    "RGBConfig",
    "RGBDataConfig",
    "RGBImages",
    "data_crop",
    "evaluate_checkpoint",
    "evaluate_from_cli",
    "load_rgb_config",
    "per_type_recall",
    "score_batch",
    "score_dataset",
    "score_statistics",
    "train",
    "train_from_cli",
    "write_report",
]
