"""``evaluate vlm``: zero-shot normal/defect accuracy over a manifest split."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from core.errors import ConfigError
from inspector.cli import main
from inspector.evaluation.dataset import select_rows
from inspector.evaluation.vlm import evaluate_from_cli, evaluate_vlm
from models.vlm import Availability, BackendError, VLMBackend


class _SaysDefectOnCT(VLMBackend):
    """Answers "defect" for every CT image and "normal" for every RGB photo; fails on image 3."""

    name = "scripted"

    def __init__(self):
        super().__init__()
        self.requests = []

    def _check_availability(self):
        return Availability(True)

    def _generate(self, request):
        self.requests.append(request)
        if len(self.requests) == 3:
            raise BackendError("scripted: quota exceeded")
        defect = request.ct_image is not None
        return {
            "defect_detected": defect,
            "defect_type": "porosity" if defect else "none",
            "location": "",
            "boxes": [],
            "severity": "high" if defect else "low",
            "probable_cause": "",
            "recommended_action": "",
            "summary": "",
        }


def test_accuracy_counts_failures_as_wrong(dataset):
    backend = _SaysDefectOnCT()
    metrics = evaluate_vlm(backend, select_rows(dataset, "test"))
    # CT defect: TP, CT normal: FP, RGB defect: failed (counts as FN), RGB normal: TN
    assert metrics["confusion_matrix"] == [[1, 1], [1, 1]]
    assert metrics["accuracy"] == 0.5
    assert metrics["accuracy_answered"] == pytest.approx(2 / 3, abs=1e-4)
    assert metrics["n_images"] == 4 and metrics["n_failed"] == 1
    assert metrics["per_modality_accuracy"] == {"ct": 0.5, "rgb": 0.5}
    assert "quota exceeded" in metrics["errors"][0]
    assert all(r.evidence == {} for r in backend.requests)  # zero-shot: the image alone


def test_limit_and_unknown_split(dataset):
    assert len(select_rows(dataset, "test", limit=2)) == 2
    with pytest.raises(Exception, match="split 'val' has no rows"):
        select_rows(dataset, "val")


def test_findings_writer_is_refused(dataset):
    args = SimpleNamespace(backend="findings_writer", data=str(dataset), split="test", limit=None)
    with pytest.raises(ConfigError, match="no zero-shot reading"):
        evaluate_from_cli(args)


def test_cli_reports_an_unavailable_backend_in_one_line(dataset, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    out = tmp_path / "vlm.json"
    code = main(["evaluate", "vlm", "--backend", "gemini", "--data", str(dataset), "--json", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and err[-1] == "error: gemini is not available: no GEMINI_API_KEY set"
    assert not out.exists()


def test_cli_writes_json(dataset, tmp_path, monkeypatch):
    from models.vlm import registry

    monkeypatch.setitem(registry._VLMS, "scripted", _SaysDefectOnCT)
    out = tmp_path / "vlm.json"
    assert main(["evaluate", "vlm", "--backend", "scripted", "--data", str(dataset), "--json", str(out)]) == 0
    metrics = json.loads(out.read_text())
    assert metrics["backend"] == "scripted" and metrics["split"] == "test" and metrics["n_images"] == 4
