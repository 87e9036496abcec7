"""CT and RGB predictors built from tiny checkpoints with known behaviour."""

import json

import numpy as np
import pytest
import torch

from core.errors import CheckpointError, InputError
from inspector.predictors import (
    CTPredictor,
    RGBPredictor,
    find_default_checkpoint,
    list_predictors,
    load_predictor,
)
from tests.inspector._checkpoints import ct_image, rgb_image, save_ct, save_rgb


@pytest.fixture(scope="module")
def ckpt_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("ckpt")
    save_ct(directory)
    save_rgb(directory)
    return directory


@pytest.fixture(scope="module")
def ct(ckpt_dir) -> CTPredictor:
    return load_predictor(ckpt_dir / "ct_test.safetensors")


@pytest.fixture(scope="module")
def rgb(ckpt_dir) -> RGBPredictor:
    return load_predictor(ckpt_dir / "rgb_test.safetensors")


def test_registry_maps_card_tasks_to_predictors(ct, rgb):
    assert {"ct", "rgb"} <= set(list_predictors())
    assert isinstance(ct, CTPredictor) and isinstance(rgb, RGBPredictor)


def test_ct_defect_gives_label_confidence_and_box_in_input_pixels(ct):
    pred = ct.predict(ct_image(64, blob=(8, 40, 16, 12)), battery_type="cell", axis="x")
    assert pred.label == "cell_porosity" and pred.is_defect
    assert sum(pred.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert pred.confidence == pytest.approx(pred.defect_probability)
    assert pred.confidence == pytest.approx(
        sum(v for k, v in pred.probabilities.items() if "normal" not in k)
    )
    # the model sees 32x32; the box comes back in the 64x64 input's pixels
    assert pred.boxes == [{"label": "porosity", "score": 1.0, "box": [8, 40, 16, 12]}]
    assert pred.attention.shape == (64, 64) and pred.attention[45, 15] == pytest.approx(1.0)
    assert pred.explained_class == "cell_porosity" and pred.explainer == "gradcam"
    assert set(pred.to_dict()) == {"label", "probabilities", "is_defect", "confidence", "boxes", "ood_score"}


def test_ct_normal_has_no_boxes_and_normal_confidence(ct):
    pred = ct.predict(ct_image(48))
    assert (pred.label, pred.is_defect, pred.boxes) == ("cell_normal", False, [])
    assert pred.confidence == pytest.approx(pred.normal_probability)
    assert pred.confidence == pytest.approx(
        pred.probabilities["cell_normal"] + pred.probabilities["module_normal"]
    )


def test_ct_temperature_and_threshold_come_from_the_card(tmp_path):
    image = ct_image(64, blob=(8, 40, 16, 12))
    plain = load_predictor(save_ct(tmp_path, "plain")).predict(image)
    warm = load_predictor(save_ct(tmp_path, "warm", temperature=2.0)).predict(image)
    logits = torch.log(torch.tensor(list(plain.probabilities.values())))  # logits up to a constant
    expected = torch.softmax(logits / 2.0, dim=0)
    np.testing.assert_allclose(list(warm.probabilities.values()), expected.numpy(), atol=1e-5)
    strict = load_predictor(save_ct(tmp_path, "strict"), threshold=0.95).predict(image)
    assert (strict.label, strict.is_defect, strict.boxes) == ("cell_normal", False, [])
    assert strict.confidence == pytest.approx(1 - plain.defect_probability)


def test_ct_input_size_and_normalisation_are_applied(tmp_path):
    # mean 0.5 / std 0.5 maps the dark background 0.2 to -0.6 and the blob 1.0 to 1.0
    pred = load_predictor(save_ct(tmp_path, normalisation={"mean": [0.5], "std": [0.5]}, input_size=[16, 24]))
    assert pred.input_hw == (16, 24)
    tensor = pred.to_tensor(ct_image(64, blob=(0, 0, 64, 8)))
    assert tuple(tensor.shape) == (1, 1, 16, 24)
    assert tensor.max().item() == pytest.approx(1.0) and tensor.min().item() == pytest.approx(-0.6)


def test_ct_model_with_metadata_needs_it(tmp_path):
    pred = load_predictor(save_ct(tmp_path, architecture="late_fusion", model_kwargs={}))
    with pytest.raises(InputError, match="battery type"):
        pred.predict(ct_image(32))
    with pytest.raises(InputError, match="battery type must be"):
        pred.predict(ct_image(32), battery_type="pack", axis="x")
    out = pred.predict(ct_image(32), battery_type="module", axis="y")
    assert out.attention.shape == (32, 32) and out.label in out.probabilities


def test_rgb_known_answer_score_decision_and_box(rgb):
    normal = rgb.predict(rgb_image(64))
    assert not normal.is_defect and normal.score < 1e-4 and normal.boxes == []
    assert normal.confidence == pytest.approx(1 - normal.defect_probability) and normal.confidence > 0.5
    defect = rgb.predict(rgb_image(64, square=(40, 8, 12, 10)))
    assert defect.is_defect and defect.score > defect.threshold == pytest.approx(0.01)
    assert defect.error_map.shape == (64, 64) and defect.error_map.max() <= 1.0
    (box,) = defect.boxes
    x, y, w, h = box["box"]
    assert x <= 40 and y <= 8 and x + w >= 52 and y + h >= 18  # covers the square
    assert w <= 24 and h <= 24  # and not much more
    assert set(defect.to_dict()) == {"score", "threshold", "is_defect", "confidence", "boxes", "ood_score"}


def test_rgb_boxes_are_in_pixels_of_a_non_square_input(rgb):
    image = rgb_image(64, square=None)
    image = np.concatenate([image, image], axis=1)  # 64 x 128
    image[40:52, 100:116] = 255
    (box,) = rgb.predict(image).boxes
    x, y, w, h = box["box"]
    assert x <= 100 and x + w >= 116 and y <= 40 and y + h >= 52 and x + w <= 128


def test_rgb_threshold_override(ckpt_dir):
    lenient = load_predictor(ckpt_dir / "rgb_test.safetensors", threshold=10.0)
    pred = lenient.predict(rgb_image(64, square=(40, 8, 12, 10)))
    assert not pred.is_defect and pred.threshold == 10.0 and pred.boxes == []


def test_bad_images_are_input_errors(ct, rgb):
    with pytest.raises(InputError):
        ct.predict(np.zeros((8, 8, 3), np.float32))
    with pytest.raises(InputError):
        rgb.predict(np.zeros((8, 8), np.uint8))


def test_broken_cards_are_checkpoint_errors(tmp_path):
    with pytest.raises(CheckpointError, match="input_size"):
        load_predictor(save_ct(tmp_path, "a", input_size=None))
    with pytest.raises(CheckpointError, match="expected rgb"):
        load_predictor(save_ct(tmp_path, "b"), tasks=("rgb",))
    with pytest.raises(CheckpointError, match="no predictor"):
        load_predictor(save_ct(tmp_path, "c", task="segmentation"))
    with pytest.raises(CheckpointError, match="does not exist"):
        load_predictor(tmp_path / "missing.safetensors")


def test_nan_threshold_in_a_card_is_refused(tmp_path):
    with pytest.raises(InputError, match="finite"):
        load_predictor(save_rgb(tmp_path, threshold=float("nan")))


def test_default_checkpoint_lookup(tmp_path):
    assert find_default_checkpoint(tmp_path / "nowhere", "ct") is None
    only = save_ct(tmp_path, "ct_only")
    assert find_default_checkpoint(tmp_path, "ct") == only  # a single card is the default
    save_ct(tmp_path, "ct_other")
    assert find_default_checkpoint(tmp_path, "ct") is None  # ambiguous without "default": true
    chosen = save_ct(tmp_path, "ct_chosen", default=True)
    (tmp_path / "notes.json").write_text(json.dumps(["not a card"]))
    assert find_default_checkpoint(tmp_path, "ct") == chosen
    assert find_default_checkpoint(tmp_path, "rgb") is None


def test_ct_battery_outline_crop_maps_boxes_back_to_the_input(tmp_path):
    pred = load_predictor(save_ct(tmp_path, preprocessing={"crop": "battery_outline", "resize": "area"}))
    image = np.zeros((96, 128), np.float32)
    image[20:76, 40:104] = 0.45  # the battery, off-centre on a dark frame
    image[50:62, 60:72] = 1.0  # a void inside it
    out = pred.predict(image)
    assert out.is_defect and out.attention.shape == (96, 128)
    (box,) = out.boxes
    x, y, w, h = box["box"]
    assert abs(x - 60) <= 2 and abs(y - 50) <= 2 and abs(w - 12) <= 3 and abs(h - 12) <= 3
    assert out.attention[:, :30].max() == 0.0  # outside the crop window nothing was looked at


def test_ct_crop_is_the_training_crop_for_a_battery_at_the_image_edge(tmp_path, monkeypatch):
    from training.transforms import BatteryOutlineCrop

    pred = load_predictor(save_ct(tmp_path, preprocessing={"crop": "battery_outline", "resize": "area"}))
    image = np.zeros((128, 128), np.float32)
    image[4:124, 0:30] = 0.45  # a tall battery touching the left edge
    image[60:64, 100:110] = 0.9  # a stamp in the square window but outside the outline + margin
    seen = []
    to_tensor = pred.to_tensor
    monkeypatch.setattr(pred, "to_tensor", lambda view: seen.append(view) or to_tensor(view))
    pred.predict(image)
    expected, _ = BatteryOutlineCrop()(image, np.zeros_like(image))
    np.testing.assert_array_equal(seen[0], expected)
    assert seen[0].max() < 0.5  # the stamp is blanked, as in training


def test_ct_class_bias_from_the_card_shifts_the_prediction(tmp_path):
    image = ct_image(64, blob=(8, 40, 16, 12))
    plain = load_predictor(save_ct(tmp_path, "plain")).predict(image)
    logp = np.log(list(plain.probabilities.values()))
    bias = [0.0, 0.0, 0.0, 0.0, float(logp.max() - logp[4] + 2.0)]  # resin overflow becomes the top class
    shifted = load_predictor(save_ct(tmp_path, "biased", class_bias=bias)).predict(image)
    logits = logp + np.array(bias)
    expected = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(list(shifted.probabilities.values()), expected, atol=1e-5)
    assert shifted.label == "module_resin_overflow"
    with pytest.raises(CheckpointError, match="2 values for 5 classes"):
        load_predictor(save_ct(tmp_path, "broken", class_bias=[0.0, 1.0]))
