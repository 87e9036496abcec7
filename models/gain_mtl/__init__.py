"""GAIN-MTL: a defect classifier trained to decide for the right reason (seeds 000, 001).

``create_gain_model(**model_kwargs)`` builds :class:`GainMTL`; a checkpoint card stores the
same kwargs under ``model_kwargs`` and ``architecture: "gain_mtl"``.
"""

from __future__ import annotations

from models.gain_mtl.cam import CAMClassifier, defect_evidence, normalise_attention
from models.gain_mtl.decoder import DEFAULT_DECODER_STRIDE, MultiScaleDecoder
from models.gain_mtl.encoder import create_encoder
from models.gain_mtl.inpaint import dilate, inpaint
from models.gain_mtl.mining import AttentionMining
from models.gain_mtl.network import GainMTL

ARCHITECTURE = "gain_mtl"


def create_gain_model(**kwargs) -> GainMTL:
    """Build a :class:`GainMTL` from keyword arguments (the card's ``model_kwargs``)."""
    return GainMTL(**kwargs)


__all__ = [
    "ARCHITECTURE",
    "DEFAULT_DECODER_STRIDE",
    "AttentionMining",
    "CAMClassifier",
    "GainMTL",
    "MultiScaleDecoder",
    "create_encoder",
    "create_gain_model",
    "defect_evidence",
    "dilate",
    "inpaint",
    "normalise_attention",
]
