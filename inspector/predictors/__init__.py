"""Predictors: a trained model plus its card's preprocessing, loaded once, applied to one image.

``load_predictor(path)`` reads a checkpoint card and builds the predictor registered for the
card's ``task`` (``ct`` -> :class:`CTPredictor`, ``rgb`` -> :class:`RGBPredictor`). A new kind
of checkpoint (for example ``gain``) is a new module in this package with a
``@register_predictor("gain")`` class; modules here are discovered automatically, so callers
and this file need no edit.
"""

from inspector.predictors.base import (
    PREDICTORS,
    Predictor,
    create_predictor,
    find_default_checkpoint,
    list_predictors,
    load_predictor,
    register_predictor,
)
from inspector.predictors.ct import CTPrediction, CTPredictor
from inspector.predictors.rgb import RGBPrediction, RGBPredictor

__all__ = [
    "PREDICTORS",
    "CTPrediction",
    "CTPredictor",
    "Predictor",
    "RGBPrediction",
    "RGBPredictor",
    "create_predictor",
    "find_default_checkpoint",
    "list_predictors",
    "load_predictor",
    "register_predictor",
]
