"""The offline writer and model boxes on real outputs of the shipped inspector models.

Runs the default checkpoints on a porosity CT slice and a scratched RGB photo from the
sample assets (each side whose default checkpoint is shipped); skipped while none is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from models.vlg import create_vlg
from models.vlm import create_vlm

ASSETS = Path(__file__).resolve().parents[3] / "assets"


@pytest.fixture(scope="module")
def evidence():
    pytest.importorskip("torch")
    from core.imageio import load_image
    from core.manifest import read_manifest
    from inspector.pipeline import Inspector

    if not (ASSETS / "manifest.csv").is_file():
        pytest.skip("no sample assets")
    inspector = Inspector.load()
    if not any(inspector.predictors.values()):
        pytest.skip("; ".join(inspector.missing.values()))
    has = {side: predictor is not None for side, predictor in inspector.predictors.items()}
    rows = read_manifest(ASSETS)
    ct = rows[rows["label"].str.endswith("porosity")].iloc[0]
    rgb = rows[rows["label"] == "scratch"].iloc[0]
    result = inspector.analyse(
        ct=load_image(ASSETS / ct["image_path"], "ct") if has["ct"] else None,
        rgb=load_image(ASSETS / rgb["image_path"], "rgb") if has["rgb"] else None,
        battery_type=ct["battery_type"],
        axis=ct["axis"],
    )
    return result


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_findings_writer_agrees_with_the_verdict(evidence, lang):
    result = evidence
    finding = create_vlm("findings_writer").describe(result.finding_request(lang)).to_dict()
    defective = result.verdict.verdict != "normal"
    assert finding["defect_detected"] is defective
    assert finding["language"] == lang
    assert ("no vision-language model" if lang == "en" else "VLM 아님") in finding["summary"]
    if defective:
        assert finding["location"] and finding["probable_cause"] and finding["severity"] != "low"
    for box in finding["boxes"]:
        x, y, w, h = box["box"]
        assert 0 <= x and 0 <= y and x + w <= 256.1 and y + h <= 256.1


def test_model_boxes_follow_the_defective_sides(evidence):
    result = evidence
    boxes = create_vlg("model_boxes").detect(result.finding_request())
    sides = {b["modality"] for b in boxes}
    data = result.to_dict()
    for side in ("ct", "rgb"):
        if data[side] is None or not data[side]["is_defect"]:
            assert side not in sides
    for box in boxes:
        x, y, w, h = box["box"]
        assert box["source"]  # labelled as coming from the model, not from a text prompt
        assert "prompt" not in box
        assert 0 <= x and 0 <= y and w >= 1 and h >= 1 and x + w <= 256.1 and y + h <= 256.1
