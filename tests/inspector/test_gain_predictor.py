"""The GAIN-MTL checkpoint as the inspector's CT model: attention + localisation boxes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.checkpoint import save_checkpoint
from core.errors import CheckpointError, InputError
from inspector.explain import create_explainer
from inspector.predictors import load_predictor
from models.gain_mtl import GainMTL

KWARGS = dict(encoder_width=8, decoder_channels=8, detail_channels=4)


@pytest.fixture()
def gain_checkpoint(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    model = GainMTL(**KWARGS).eval()
    with torch.no_grad():  # an untrained model whose localisation head predicts no defect pixel
        model.classifier.fc.bias.fill_(-2.0)
        model.loc_head[-1].bias.fill_(-5.0)
    card = {
        "task": "gain",
        "architecture": "gain_mtl",
        "model_kwargs": KWARGS,
        "class_names": ["normal", "defect"],
        "input_size": 64,
        "normalisation": {"mean": [0.5], "std": [0.25]},
        "threshold": 0.5,
    }
    return save_checkpoint(model, tmp_path / "gain_test", card)


def test_gain_checkpoint_is_a_ct_model(gain_checkpoint: Path) -> None:
    predictor = load_predictor(gain_checkpoint, tasks=("ct", "gain"))
    image = np.random.default_rng(0).random((100, 120)).astype(np.float32)
    pred = predictor.predict(image, battery_type="cell", axis="y")
    assert pred.explainer == "gain_attention"
    assert pred.attention.shape == (100, 120)
    assert 0.0 <= pred.attention.min() and pred.attention.max() <= 1.0
    assert set(pred.probabilities) == {"normal", "defect"}
    assert pred.is_defect == (pred.defect_probability >= 0.5)
    assert set(pred.to_dict()) == {"label", "probabilities", "is_defect", "confidence", "boxes", "ood_score"}
    assert pred.boxes == []  # the localisation head predicts no defect pixel (bias -5)


def test_boxes_come_from_the_localisation_head(gain_checkpoint: Path) -> None:
    predictor = load_predictor(gain_checkpoint, threshold=0.01)
    with torch.no_grad():
        predictor.model.loc_head[-1].bias.fill_(5.0)  # every pixel is "defect"
    pred = predictor.predict(np.full((64, 64), 0.5, np.float32))
    assert pred.is_defect
    assert pred.boxes and pred.boxes[0]["box"] == [0, 0, 64, 64]


def test_bad_input_and_bad_card(gain_checkpoint: Path, tmp_path: Path) -> None:
    predictor = load_predictor(gain_checkpoint)
    with pytest.raises(InputError):
        predictor.predict(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(CheckpointError):
        load_predictor(gain_checkpoint, tasks=("rgb",))


def test_gain_attention_explainer_matches_model_attention() -> None:
    model = GainMTL(**KWARGS).eval()
    image = torch.randn(1, 1, 64, 64)
    heat = create_explainer("gain_attention").explain(model, image)
    with torch.no_grad():
        expected = model.attention(model(image), (64, 64))[0, 0].numpy()
    np.testing.assert_allclose(heat, expected, atol=1e-5)
