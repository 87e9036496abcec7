"""GAIN-MTL task: a binary defect classifier trained to look at the defect (seeds 000, 001).

A strategy (S1-S8 of seed 001) is nothing but a config: which losses run with which weight and
warm-up, and whether the GT-mask curriculum runs. The task sums the configured terms; there
is no per-strategy code. Presets live in ``training/configs/gain/`` and inherit
``base.yaml`` through a ``base:`` key::

    python -m inspector train gain --config training/configs/gain/S6.yaml --data data/shortcut0 --out runs/gain_s6
    python -m inspector evaluate gain --checkpoint runs/gain_s6/last.safetensors --data data/shortcut1 --split test_shift --json out.json

The package is split by responsibility; every name is importable from ``training.tasks.gain``:

- :mod:`~training.tasks.gain.config`: the YAML schema (``GainConfig``), ``base:`` inheritance, loader;
- :mod:`~training.tasks.gain.data`: :class:`GainSplit` (a cached split) and its loader;
- :mod:`~training.tasks.gain.task`: :class:`GainTask` (the loss terms, validation metrics, card);
- :mod:`~training.tasks.gain.threshold`: the decision threshold tuned on val;
- :mod:`~training.tasks.gain.fit`: training;
- :mod:`~training.tasks.gain.evaluation`: checkpoint loading, predicted maps, evaluation;
- :mod:`~training.tasks.gain.cli`: the ``train gain`` / ``evaluate gain`` entry points.
"""

from __future__ import annotations

from training.tasks.gain.cli import evaluate_from_cli, train_from_cli
from training.tasks.gain.config import (
    CLASS_NAMES,
    CLASSIFICATION_TERM,
    CurriculumConfig,
    GainConfig,
    GainDataConfig,
    GainEvalConfig,
    GainModelConfig,
    LossTerm,
    load_gain_config,
    model_kwargs,
)
from training.tasks.gain.data import GainSplit, make_loader
from training.tasks.gain.evaluation import evaluate, load_gain_model, predict_maps
from training.tasks.gain.fit import train
from training.tasks.gain.task import GainTask
from training.tasks.gain.threshold import choose_threshold, tune_threshold

__all__ = [
    "CLASSIFICATION_TERM",
    "CLASS_NAMES",
    "CurriculumConfig",
    "GainConfig",
    "GainDataConfig",
    "GainEvalConfig",
    "GainModelConfig",
    "GainSplit",
    "GainTask",
    "LossTerm",
    "choose_threshold",
    "evaluate",
    "evaluate_from_cli",
    "load_gain_config",
    "load_gain_model",
    "make_loader",
    "model_kwargs",
    "predict_maps",
    "train",
    "train_from_cli",
    "tune_threshold",
]
