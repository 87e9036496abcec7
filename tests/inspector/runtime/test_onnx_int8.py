"""``onnx_int8``: the CT graph quantised on calibration slices, close to float32; others untouched."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from core.errors import ConfigError
from core.imageio import load_image
from inspector.predictors import load_predictor

ROOT = Path(__file__).resolve().parents[3]
CHECKPOINTS = ROOT / "checkpoints"
CT_ASSETS = ROOT / "assets" / "ct"


@pytest.fixture(scope="module")
def ct_pair() -> tuple:
    return tuple(
        load_predictor(CHECKPOINTS / "ct_xgen.safetensors", runtime=rt, calibration_dir=CT_ASSETS)
        for rt in ("onnx", "onnx_int8")
    )



def test_the_ct_graph_is_quantised_and_agrees_with_float32_on_unseen_slices(ct_pair) -> None:
    f32, int8 = ct_pair
    assert int8.runner.name == "onnx_int8" and int8.runner.quantised
    # the quantised session differs from the float32 one (else nothing was quantised) ...
    image = np.rot90(load_image(sorted(CT_ASSETS.glob("*.png"))[0], "ct")).copy()
    x = f32.to_tensor(f32._crop(image)[0]).numpy()
    logits_f32 = f32.runner.run({"image": x})["logits"]
    logits_int8 = int8.runner.run({"image": x})["logits"]
    assert not np.array_equal(logits_f32, logits_int8)
    # ... but stays close on slices it was not calibrated on (the samples rotated by 90 degrees)
    for path in sorted(CT_ASSETS.glob("*.png")):
        rotated = np.rot90(load_image(path, "ct")).copy()
        a, b = f32.predict(rotated), int8.predict(rotated)
        assert abs(a.defect_probability - b.defect_probability) < 0.1
        if abs(a.defect_probability - a.threshold) > 0.1:  # a borderline slice may tip either way
            assert a.label == b.label


def test_int8_needs_calibration_slices(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="calibration slices"):
        load_predictor(CHECKPOINTS / "ct_xgen.safetensors", runtime="onnx_int8", calibration_dir=empty)


def test_unreadable_calibration_files_are_skipped(tmp_path: Path, caplog) -> None:
    folder = tmp_path / "cal"
    folder.mkdir()
    for path in sorted(CT_ASSETS.glob("*.png"))[:3]:
        shutil.copy(path, folder / path.name)
    (folder / "broken.png").write_bytes(b"not a png")
    predictor = load_predictor(CHECKPOINTS / "ct_xgen.safetensors", runtime="onnx_int8", calibration_dir=folder)
    assert len(predictor.calibration_inputs()) == 3
    assert "broken.png" in caplog.text


def test_rgb_graph_stays_float32(tmp_path: Path) -> None:
    # not quantisable: runs as plain onnx, no calibration needed, identical to the onnx runtime
    a = load_predictor(CHECKPOINTS / "rgb_draem.safetensors", runtime="onnx")
    b = load_predictor(CHECKPOINTS / "rgb_draem.safetensors", runtime="onnx_int8", calibration_dir=tmp_path)
    photo = load_image(sorted((ROOT / "assets" / "rgb").glob("*.png"))[0], "rgb")
    assert not b.detector.runner.quantised
    assert b.predict(photo).score == a.predict(photo).score
