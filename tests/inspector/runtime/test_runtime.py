"""ONNX Runtime vs torch: the same predictions (within 1e-4) on the shipped checkpoints and assets."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from core.errors import ConfigError, InputError
from core.imageio import load_image
from inspector.predictors import load_predictor
from inspector.runtime import create_runner, list_runtimes
from inspector.settings import InspectorSettings

ROOT = Path(__file__).resolve().parents[3]
CHECKPOINTS = ROOT / "checkpoints"
ASSETS = ROOT / "assets"
TOL = 1e-4


def _assets(modality: str) -> list[tuple[np.ndarray, dict]]:
    with (ASSETS / "manifest.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["modality"] == modality]
    return [(load_image(ASSETS / r["image_path"], modality), r) for r in rows]


@pytest.fixture(scope="module")
def pairs() -> dict[str, tuple]:
    """torch and onnx predictors of every shipped checkpoint (loaded once)."""
    return {
        name: tuple(load_predictor(CHECKPOINTS / f"{name}.safetensors", runtime=rt) for rt in ("torch", "onnx"))
        for name in ("ct_xgen", "ct_compact", "gain_xgen", "rgb_draem")
    }


def test_runtimes_are_registered() -> None:
    assert {"torch", "onnx"} <= set(list_runtimes())


def test_unknown_runtime_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="runtime"):
        InspectorSettings(runtime="tensorrt")
    with pytest.raises(ConfigError, match="unknown runtime"):
        load_predictor(CHECKPOINTS / "rgb_draem.safetensors", runtime="tensorrt")


@pytest.mark.parametrize("name", ["ct_xgen", "ct_compact", "gain_xgen"])
def test_ct_parity_on_assets(pairs: dict, name: str) -> None:
    torch_p, onnx_p = pairs[name]
    assert onnx_p.runner.name == "onnx" and torch_p.runner.name == "torch"
    for image, row in _assets("ct"):
        meta = {"battery_type": row["battery_type"], "axis": row["axis"]}
        a, b = torch_p.predict(image, **meta), onnx_p.predict(image, **meta)
        assert a.label == b.label and a.is_defect == b.is_defect
        for cls, p in a.probabilities.items():
            assert b.probabilities[cls] == pytest.approx(p, abs=TOL)
        assert b.defect_probability == pytest.approx(a.defect_probability, abs=TOL)
        np.testing.assert_allclose(b.attention, a.attention, atol=TOL)
        assert [x["box"] for x in b.boxes] == [x["box"] for x in a.boxes]
        assert b.review_reasons == a.review_reasons
        if a.ood_score is None:
            assert b.ood_score is None
        else:
            assert b.ood_score == pytest.approx(a.ood_score, rel=TOL, abs=TOL)


def test_ct_review_features_come_from_the_onnx_graph(pairs: dict) -> None:
    """The density score of ct_xgen needs the last linear layer's input: a second graph output."""
    torch_p, onnx_p = pairs["ct_xgen"]
    assert onnx_p.density is not None
    assert "features" in onnx_p.runner.graph.output_names
    image, row = _assets("ct")[0]
    x = torch_p.to_tensor(image).numpy()
    a, b = torch_p.runner.run({"image": x}), onnx_p.runner.run({"image": x})
    assert b["features"].shape == (1, onnx_p.density.means.shape[1])
    np.testing.assert_allclose(b["features"], a["features"], atol=TOL, rtol=TOL)
    assert onnx_p.predict(image, row["battery_type"], row["axis"]).ood_score is not None


def test_rgb_parity_on_assets(pairs: dict) -> None:
    torch_p, onnx_p = pairs["rgb_draem"]
    for image, _ in _assets("rgb"):
        a, b = torch_p.predict(image), onnx_p.predict(image)
        assert b.score == pytest.approx(a.score, abs=TOL)
        assert b.defect_probability == pytest.approx(a.defect_probability, abs=TOL)
        assert a.is_defect == b.is_defect
        np.testing.assert_allclose(b.error_map, a.error_map, atol=TOL)


def test_batched_graph_matches_single_images(pairs: dict) -> None:
    """The batch dimension is dynamic: a batch of 3 gives the rows of 3 single runs."""
    _, onnx_p = pairs["rgb_draem"]
    x = onnx_p.runner.graph.example_inputs(batch=3)[0].numpy()
    batched = onnx_p.runner.run({"image": x})
    for i in range(3):
        single = onnx_p.runner.run({"image": x[i : i + 1]})
        np.testing.assert_allclose(batched["score"][i : i + 1], single["score"], atol=TOL)


def test_export_writes_onnx_and_card(tmp_path: Path, pairs: dict) -> None:
    import onnxruntime as ort

    from inspector.runtime.export import export_onnx

    out = tmp_path / "gain.onnx"
    card = export_onnx(CHECKPOINTS / "gain_xgen.safetensors", out)
    saved = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert saved == card and card["task"] == "gain"
    assert card["onnx"]["outputs"] == ["defect_logit", "attention", "localisation"]
    assert card["onnx"]["inputs"]["image"] == ["batch", 1, 128, 128]
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    torch_p, _ = pairs["gain_xgen"]
    x = torch_p.runner.graph.example_inputs(batch=2)[0].numpy()
    got = dict(zip(card["onnx"]["outputs"], session.run(None, {"image": x})))
    want = torch_p.runner.run({"image": x})
    for name in want:
        np.testing.assert_allclose(got[name], want[name], atol=TOL)


def test_export_refuses_to_overwrite_the_checkpoint_card(tmp_path: Path) -> None:
    from inspector.runtime.export import export_onnx

    with pytest.raises(InputError, match="own card"):
        export_onnx(CHECKPOINTS / "rgb_draem.safetensors", CHECKPOINTS / "rgb_draem.onnx")
    with pytest.raises(InputError, match=".onnx"):
        export_onnx(CHECKPOINTS / "rgb_draem.safetensors", tmp_path / "model.bin")


def test_torch_runner_is_the_reference_graph(pairs: dict) -> None:
    torch_p, _ = pairs["ct_compact"]
    runner = create_runner("torch", torch_p.runner.graph)
    x = runner.graph.example_inputs(batch=2)
    out = runner.run(dict(zip(runner.graph.input_names, (t.numpy() for t in x))))
    assert out["logits"].shape == (2, 5) and out["activations"].ndim == 4
