"""CT slice classification: training, calibration and evaluation on the shared loop.

``python -m inspector train ct --config training/configs/ct_default.yaml --data D --out RUN``
trains a :mod:`models.ct_cnn` architecture with the four class-imbalance remedies of seed 002
(focal loss, class weights, ``WeightedRandomSampler``, label smoothing), then fits a softmax
temperature on the validation split and stores it in ``RUN/best.json``.

``python -m inspector evaluate ct --checkpoint RUN/best.safetensors --data D --split test
--json OUT [--report DIR]`` writes the contract metrics (``accuracy, macro_f1, roc_auc,
per_class, confusion_matrix, binary`` + ``ece_before, ece_after, temperature``) and, with
``--report``, a Markdown report with a confusion-matrix and a ROC figure.

The package is split by responsibility; every name is importable from ``training.tasks.ct``:

- :mod:`~training.tasks.ct.config`: the YAML schema (``CTConfig``) and its loader;
- :mod:`~training.tasks.ct.data`: transforms, datasets and loaders of a split;
- :mod:`~training.tasks.ct.task`: model and loss builders and :class:`CTTask`;
- :mod:`~training.tasks.ct.fit`: training and temperature calibration;
- :mod:`~training.tasks.ct.evaluation`: checkpoint loading, prediction, evaluation and report;
- :mod:`~training.tasks.ct.cli`: the ``train ct`` / ``evaluate ct`` entry points.
"""

from __future__ import annotations

from training.tasks.ct.cli import evaluate_from_cli, train_from_cli
from training.tasks.ct.config import CLASS_NAMES, CTConfig, CTDataConfig, CTLossConfig, load_ct_config
from training.tasks.ct.data import build_transform, make_dataset, make_loader
from training.tasks.ct.evaluation import evaluate, load_ct_model, predict
from training.tasks.ct.fit import calibrate_checkpoint, train
from training.tasks.ct.task import CTTask, build_loss, build_model, class_weights

__all__ = [
    "CLASS_NAMES",
    "CTConfig",
    "CTDataConfig",
    "CTLossConfig",
    "CTTask",
    "build_loss",
    "build_model",
    "build_transform",
    "calibrate_checkpoint",
    "class_weights",
    "evaluate",
    "evaluate_from_cli",
    "load_ct_config",
    "load_ct_model",
    "make_dataset",
    "make_loader",
    "predict",
    "train",
    "train_from_cli",
]
