"""The verdict confidence as a calibrated probability: fit, store, apply only where it was fitted."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest

from inspector.calibration import (
    CALIBRATION_FILE,
    VerdictCalibration,
    expected_calibration_error,
    fit_isotonic,
    load_calibration,
    reliability_bins,
    save_reliability_diagram,
)
from inspector.verdict import combine
from tests.inspector._checkpoints import ct_image, default_checkpoint_dir, rgb_image


@dataclass
class Side:
    is_defect: bool
    confidence: float
    normal_probability: float


def overconfident(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Raw confidences in [0.6, 1] whose verdicts are right only ``raw - 0.35`` of the time."""
    rng = np.random.default_rng(seed)
    raw = rng.uniform(0.6, 1.0, n)
    return raw, (rng.random(n) < raw - 0.35).astype(float)


def test_isotonic_fit_is_monotone_and_calibrates_held_out_data():
    raw, ok = overconfident(2000, 0)
    x, y = fit_isotonic(raw, ok)
    assert np.all(np.diff(x) > 0) and np.all(np.diff(y) >= 0) and 0 <= min(y) and max(y) <= 1
    cal = VerdictCalibration(x, y, {"ct": "a", "rgb": "b"})
    held_raw, held_ok = overconfident(2000, 1)  # fitted on one sample, judged on another
    before = expected_calibration_error(held_raw, held_ok)
    after = expected_calibration_error(np.array([cal(v) for v in held_raw]), held_ok)
    assert before > 0.3 and after < 0.05


def test_ece_and_bins_on_known_values():
    conf = np.array([0.95, 0.95, 0.55, 0.55])
    ok = np.array([1.0, 1.0, 1.0, 0.0])
    assert expected_calibration_error(conf, ok) == pytest.approx(0.5 * 0.05 + 0.5 * 0.05)
    bins = reliability_bins(conf, ok)
    assert [b["n"] for b in bins] == [0, 0, 0, 0, 0, 2, 0, 0, 0, 2]
    assert bins[9]["accuracy"] == 1.0 and bins[5]["accuracy"] == 0.5


def test_combine_reports_the_calibrated_probability_and_keeps_the_raw_one():
    ct, rgb = Side(True, 0.9, 0.1), Side(False, 0.8, 0.8)
    raw = combine(ct, rgb)
    assert (raw.verdict, raw.confidence, raw.calibrated) == ("internal_defect", 0.9, False)
    cal = VerdictCalibration([0.0, 1.0], [0.0, 0.5], {"ct": "a", "rgb": "b"})
    verdict = combine(ct, rgb, calibration=cal)
    assert verdict.verdict == "internal_defect"
    assert verdict.confidence == pytest.approx(0.45) and verdict.raw_confidence == pytest.approx(0.9)
    assert verdict.calibrated


def test_malformed_calibration_is_ignored(tmp_path, caplog):
    (tmp_path / CALIBRATION_FILE).write_text(json.dumps({"x": [0.5, 0.1], "y": [0.2, 0.3], "checkpoints": {}}))
    assert load_calibration(tmp_path) is None
    assert "ignoring the verdict calibration" in caplog.text
    assert load_calibration(tmp_path / "nowhere") is None


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    folder = default_checkpoint_dir(tmp_path_factory.mktemp("calib_ckpt"))
    # a calibration that halves every confidence, fitted "for" the two test checkpoints
    VerdictCalibration([0.0, 1.0], [0.0, 0.5], {"ct": "ct_test", "rgb": "rgb_test"}).save(folder / CALIBRATION_FILE)
    return folder


def _inspector(folder, **settings):
    from inspector.pipeline import Inspector
    from inspector.settings import InspectorSettings

    return Inspector.load(InspectorSettings(checkpoints_dir=folder, **settings))


def test_the_inspector_applies_its_calibration_to_pairs_only(ckpt):
    from inspector.settings import Thresholds

    inspector = _inspector(ckpt)
    ct, rgb = ct_image(64, blob=(20, 20, 12, 12)), rgb_image(64)
    paired = inspector.analyse(ct, rgb, battery_type="cell", axis="x").to_dict()
    assert paired["confidence_calibrated"] is True
    assert paired["confidence"] == pytest.approx(paired["confidence_raw"] / 2, abs=1e-6)
    ct_only = inspector.analyse(ct, None, battery_type="cell", axis="x").to_dict()
    assert ct_only["confidence_calibrated"] is False and ct_only["confidence"] == ct_only["confidence_raw"]
    custom = inspector.analyse(ct, rgb, battery_type="cell", axis="x", thresholds=Thresholds(ct=0.9)).to_dict()
    assert custom["confidence_calibrated"] is False  # fitted at the cards' thresholds only
    other_policy = inspector.analyse(ct, rgb, thresholds=Thresholds(policy="and")).to_dict()
    assert other_policy["confidence_calibrated"] is False


def test_a_calibration_for_other_checkpoints_is_not_used(tmp_path):
    folder = default_checkpoint_dir(tmp_path)
    VerdictCalibration([0.0, 1.0], [0.0, 0.5], {"ct": "ct_other", "rgb": "rgb_test"}).save(folder / CALIBRATION_FILE)
    result = _inspector(folder).analyse(ct_image(64), rgb_image(64)).to_dict()
    assert result["confidence_calibrated"] is False


def test_reliability_diagram_is_written(tmp_path):
    raw, ok = overconfident(200, 2)
    section = {"reliability_raw": reliability_bins(raw, ok), "reliability_calibrated": reliability_bins(raw, ok),
               "ece_raw": 0.3, "ece_calibrated": 0.3, "data": "data/seed1", "split": "test", "n": 200}
    path = save_reliability_diagram(section, tmp_path / "rel.png")
    assert path.read_bytes().startswith(b"\x89PNG")


def test_calibrate_command_fits_on_one_set_and_reports_another(tmp_path, tiny_dataset, capsys):
    from inspector.cli import main

    folder = default_checkpoint_dir(tmp_path / "ckpt")
    code = main([
        "calibrate", "--data", str(tiny_dataset), "--split", "val", "--eval-data", str(tiny_dataset),
        "--eval-split", "test", "--checkpoints-dir", str(folder), "--figure", str(tmp_path / "rel.png"),
    ])
    assert code == 0
    stored = load_calibration(folder)
    assert stored is not None and stored.checkpoints == {"ct": "ct_test", "rgb": "rgb_test"}
    report = stored.report
    assert report["fit"]["split"] == "val" and report["eval"]["split"] == "test"
    assert report["fit"]["n"] >= 2 and report["eval"]["n"] >= 2
    assert len(report["eval"]["reliability_calibrated"]) == 10
    assert (tmp_path / "rel.png").is_file()
    summary = json.loads(capsys.readouterr().out)
    assert summary["eval"]["ece_calibrated"] == pytest.approx(report["eval"]["ece_calibrated"])
