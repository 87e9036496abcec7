"""``python -m inspector batch``: manifest and folder inputs, JSONL + summary, paired accuracy."""

import csv
import json
import os

import cv2
import numpy as np
import pytest

from core.manifest import COLUMNS as MANIFEST_COLUMNS
from inspector.cli import main
from tests.inspector._checkpoints import ct_image, rgb_image, save_ct, save_rgb

COLUMNS = [*MANIFEST_COLUMNS, "pair_id"]


def _write_ct(path, defect: bool) -> None:
    image = ct_image(64, blob=(8, 40, 16, 12) if defect else None)
    cv2.imwrite(str(path), (image * 65535).astype(np.uint16))


def _write_rgb(path, defect: bool) -> None:
    cv2.imwrite(str(path), rgb_image(64, square=(40, 8, 12, 10) if defect else None))


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory):
    d = tmp_path_factory.mktemp("ckpt")
    return ["--ct-checkpoint", str(save_ct(d)), "--rgb-checkpoint", str(save_rgb(d))]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """Four CT+RGB pairs (one per verdict), an unpaired CT slice, a pair with a corrupt photo, a train row."""
    root = tmp_path_factory.mktemp("data")
    (root / "images").mkdir()
    rows = []
    spec = [  # battery, ct defect, rgb defect (None = no image), pair id, split
        ("b1", False, False, "p1", "test"),
        ("b2", True, False, "p2", "test"),
        ("b3", False, True, "p3", "test"),
        ("b4", True, True, "p4", "test"),
        ("b5", True, None, "", "test"),
        ("b6", False, False, "p6", "test"),
        ("b7", True, True, "p7", "train"),
    ]
    for battery, ct_defect, rgb_defect, pair, split in spec:
        ct_path = f"images/{battery}_ct.png"
        _write_ct(root / ct_path, ct_defect)
        label = "cell_porosity" if ct_defect else "cell_normal"
        rows.append([ct_path, "", "ct", battery, "cell", "x", "0", label, int(ct_defect), "", split, pair])
        if rgb_defect is not None:
            rgb_path = f"images/{battery}_rgb.png"
            _write_rgb(root / rgb_path, rgb_defect)
            label = "scratch" if rgb_defect else "normal"
            rows.append(
                [rgb_path, "", "rgb", battery, "cell", "", "", label, int(rgb_defect), "", split, pair]
            )
    (root / "images" / "b6_rgb.png").write_bytes(b"not a png at all")
    with (root / "manifest.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return root


def test_batch_on_a_manifest_writes_jsonl_and_paired_accuracy(dataset, ckpts, tmp_path, capsys):
    out = tmp_path / "results.jsonl"
    assert main(["batch", str(dataset), "--out", str(out), *ckpts]) == 0
    printed = json.loads(capsys.readouterr().out)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 6  # 5 test pairs/singles + 1 corrupt pair; the train pair is skipped
    by_id = {r["id"]: r for r in records}
    assert by_id["p4"]["verdict"] == "composite_defect" and by_id["p4"]["correct"] is True
    assert by_id["b5_ct"]["rgb"] is None and by_id["b5_ct"]["verdict"] == "internal_defect"
    assert "b6_rgb.png" in by_id["p6"]["error"] and "verdict" not in by_id["p6"]
    summary = json.loads((tmp_path / "results.summary.json").read_text())
    assert summary == printed
    assert (summary["n_items"], summary["n_errors"], summary["n_paired"], summary["n_labelled"]) == (
        6,
        1,
        4,
        5,
    )
    assert summary["paired_accuracy"] == 1.0 and summary["accuracy"] == 1.0
    assert summary["per_verdict"]["internal_defect"] == {"n": 2, "correct": 2, "accuracy": 1.0}
    assert summary["per_verdict"]["normal"]["n"] == 1
    assert summary["ct_accuracy"] == 1.0 and summary["rgb_accuracy"] == 1.0
    assert summary["pairs_per_s"] > 0


def test_batch_accuracy_counts_mistakes(dataset, ckpts, tmp_path, capsys):
    # an RGB threshold nobody exceeds turns every external/composite truth into a mistake
    out = tmp_path / "strict.jsonl"
    args = ["batch", str(dataset), "--out", str(out), "--paired-only", "--rgb-threshold", "100", *ckpts]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_items"] == 5 and summary["n_paired"] == 4
    assert summary["paired_accuracy"] == pytest.approx(0.5)
    assert summary["per_verdict"]["external_defect"] == {"n": 1, "correct": 0, "accuracy": 0.0}
    matrix = summary["confusion_matrix"]["rows_true_cols_predicted"]
    assert matrix[3] == [0, 1, 0, 0]  # composite truth predicted internal
    assert summary["rgb_accuracy"] == pytest.approx(0.5)


def test_batch_on_a_folder_pairs_ct_and_rgb_by_name(tmp_path, ckpts, capsys):
    for sub in ("ct", "rgb"):
        (tmp_path / "in" / sub).mkdir(parents=True)
    _write_ct(tmp_path / "in" / "ct" / "a.png", True)
    _write_rgb(tmp_path / "in" / "rgb" / "a.png", False)
    _write_rgb(tmp_path / "in" / "rgb" / "b.png", True)
    out = tmp_path / "folder.jsonl"
    assert main(["batch", str(tmp_path / "in"), "--out", str(out), "--limit", "5", *ckpts]) == 0
    summary = json.loads(capsys.readouterr().out)
    records = {json.loads(line)["id"]: json.loads(line) for line in out.read_text().splitlines()}
    assert records["a"]["verdict"] == "internal_defect" and records["b"]["verdict"] == "external_defect"
    assert records["a"]["expected"] is None and summary["accuracy"] is None and summary["n_paired"] == 0


def test_batch_bad_sources_are_one_line_errors(tmp_path, ckpts, capsys):
    _write_rgb(tmp_path / "x.png", False)
    assert main(["batch", str(tmp_path), "--out", str(tmp_path / "o.jsonl"), *ckpts]) == 2
    assert "--modality" in capsys.readouterr().err
    assert main(["batch", str(tmp_path / "missing"), "--out", str(tmp_path / "o.jsonl"), *ckpts]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert (
        main(["batch", str(tmp_path), "--modality", "rgb", "--out", str(tmp_path / "o.jsonl"), *ckpts]) == 0
    )
    assert json.loads(capsys.readouterr().out)["n_items"] == 1


class _StopAtInit(Exception):
    pass


def test_ray_local_cluster_gets_a_long_agent_timeout_unless_set(monkeypatch):
    ray = pytest.importorskip("ray")
    from inspector.commands import _batch_ray

    seen = []

    def fake_init(**kwargs):
        seen.append(os.environ.get(_batch_ray.AGENT_TIMEOUT_ENV))
        raise _StopAtInit

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", fake_init)
    monkeypatch.setenv(_batch_ray.AGENT_TIMEOUT_ENV, "")  # so that undo removes what run_ray sets
    monkeypatch.delenv(_batch_ray.AGENT_TIMEOUT_ENV)
    with pytest.raises(_StopAtInit):
        next(_batch_ray.run_ray([], None, ("ct",), workers=1))
    monkeypatch.setenv(_batch_ray.AGENT_TIMEOUT_ENV, "1234")
    with pytest.raises(_StopAtInit):
        next(_batch_ray.run_ray([], None, ("ct",), workers=1))
    assert seen == [str(_batch_ray.AGENT_TIMEOUT_MS), "1234"]
