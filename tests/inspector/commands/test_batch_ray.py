"""``batch --engine ray``: a local Ray cluster with one CPU gives the rows of ``--engine local``.

Slow (a Ray cluster starts in ~20-60 s on the shared 2-core machine); ``.ci/run`` runs it anyway.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspector.cli import main

ASSETS = Path(__file__).resolve().parents[3] / "assets"


def _rows(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for row in rows:  # wall-clock fields are the only ones allowed to differ
        row.pop("timings_ms", None)
        for side in ("vlm", "vlg"):
            if isinstance(row.get(side), dict):
                row[side].pop("latency_ms", None)
    return rows


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_ray_engine_rows_equal_local_engine(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    common = [str(ASSETS), "--split", "all", "--limit", "5", "--runtime", "onnx"]
    assert main(["batch", *common, "--out", str(tmp_path / "local.jsonl")]) == 0
    ray_out = tmp_path / "ray.jsonl"
    assert main(["batch", *common, "--engine", "ray", "--workers", "1", "--out", str(ray_out)]) == 0
    local, ray_rows = _rows(tmp_path / "local.jsonl"), _rows(ray_out)
    assert len(ray_rows) == 5 and all("verdict" in r for r in ray_rows)
    assert ray_rows == local
    summary = json.loads(ray_out.with_suffix(".summary.json").read_text(encoding="utf-8"))
    assert summary["engine"] == "ray" and summary["n_items"] == 5 and summary["n_errors"] == 0


def test_ray_engine_refuses_zero_workers(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "r.jsonl"
    code = main(["batch", str(ASSETS), "--limit", "1", "--engine", "ray", "--workers", "0", "--out", str(out)])
    assert code != 0
    assert "--workers" in capsys.readouterr().err
