"""``python -m inspector list [KIND] [--json]``: every registry kind with names and descriptions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from core.plugins import REGISTRIES, kinds, load_registry
from inspector.cli import main

ROOT = Path(__file__).resolve().parents[3]


def test_every_table_entry_is_a_registry_with_entries() -> None:
    for kind in kinds():
        assert load_registry(kind).names(), f"{kind} has no entries"


def test_json_lists_every_kind_with_descriptions(capsys) -> None:
    assert main(["list", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert list(listing) == list(REGISTRIES)
    assert {"resnet18", "late_fusion", "timm:<name>"} <= set(listing["ct_model"])
    assert list(listing["vlm"])[0] == "findings_writer"  # the app's default is offered first
    assert list(listing["vlg"])[0] == "model_boxes"
    assert {"focal", "cross_entropy"} <= set(listing["loss"])
    assert {"gradcam", "gradcam_pp", "layercam"} <= set(listing["explainer"])
    assert listing["score"]["mean"] == "The seed's score: mean reconstruction error over the image."
    assert set(listing["ct_battery"]) == {"cell", "module"}


def test_one_kind_as_text(capsys) -> None:
    assert main(["list", "corruption"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "corruption (4)"
    assert any(line.split()[0] == "blob" and "stain" in line for line in lines[1:])


def test_unknown_kind_is_a_one_line_error_with_exit_2() -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "inspector", "list", "gizmo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: unknown plug-in kind 'gizmo'; choose one of " + ", ".join(REGISTRIES)
    ]
    assert proc.stdout == ""
