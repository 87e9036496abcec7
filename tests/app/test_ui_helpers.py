"""Helpers behind the pages: catalog, card metrics, batch grouping, drawing, charts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.errors import InputError
from inspector import drawing
from inspector.ui import batch, cardview, charts
from inspector.ui.catalog import default_card, list_artifacts, list_cards, list_samples
from tests.app.conftest import ct_png, rgb_png, zip_of


def test_list_cards_needs_weights_and_orders_defaults_first(tmp_path):
    for name, card in {
        "ct_b": {"task": "ct"},
        "ct_a": {"task": "ct", "default": True},
        "rgb_x": {"task": "rgb"},
    }.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(card))
        (tmp_path / f"{name}.safetensors").write_bytes(b"")
    (tmp_path / "ct_noweights.json").write_text(json.dumps({"task": "ct"}))
    (tmp_path / "broken.json").write_text("{")
    (tmp_path / "eval.json").write_text(json.dumps({"accuracy": 1}))  # not a card
    cards = list_cards(tmp_path)
    assert [c.name for c in cards] == ["ct_a", "ct_b", "rgb_x"]
    assert [c.name for c in list_cards(tmp_path, tasks=("rgb",))] == ["rgb_x"]
    assert default_card(cards, "ct").name == "ct_a" and default_card(cards, "rgb").name == "rgb_x"
    assert default_card(cards, "gain") is None


def test_samples_pair_by_pair_id(shipped):
    samples = list_samples(shipped["assets"])
    assert [s.key for s in samples][0] == "p1"
    pair = samples[0]
    assert pair.ct_path.name == "pair_ct.png" and pair.rgb_path.name == "pair_rgb.png"
    assert (pair.battery_type, pair.axis) == ("module", "y")
    lone = samples[1]
    assert lone.ct_path is None and lone.rgb_path.name == "lone_rgb.png"


def test_missing_manifest_gives_no_samples(tmp_path):
    assert list_samples(tmp_path) == []
    assert list_artifacts(tmp_path / "nope") == []


def test_cardview_finds_nested_metrics():
    metrics = {
        "test": {
            "accuracy": 0.8,
            "binary": {"f1": 0.7},
            "flag": True,
            "per_class": {"a": {"f1": 0.5}, "b": {"f1": 0.9}},
            "confusion_matrix": [[3, 1], [0, 4]],
            "roc_curve": {"defect": {"fpr": [0, 1], "tpr": [0, 1]}},
        }
    }
    assert cardview.scalar_metrics(metrics) == [("test.accuracy", 0.8), ("test.binary.f1", 0.7)]
    assert cardview.per_class_rows(metrics) == [{"class": "a", "f1": 0.5}, {"class": "b", "f1": 0.9}]
    assert cardview.confusion_matrix(metrics) == [[3.0, 1.0], [0.0, 4.0]]
    assert cardview.confusion_matrix({"confusion_matrix": [[1, 2]]}) is None  # not square
    assert set(cardview.roc_curves(metrics)) == {"defect"}
    split_first = {"val": {"confusion_matrix": [[1]]}, "test": {"confusion_matrix": [[2]]}}
    assert cardview.confusion_matrix(split_first) == [[2.0]]  # the test split wins


def test_batch_groups_pairs_and_unpacks_zips():
    files = batch.expand(
        [
            (
                "set.zip",
                zip_of(
                    {"dir/a_ct.png": b"1", "a_rgb.png": b"2", "__MACOSX/a_ct.png": b"x", "notes.txt": b"t"}
                ),
            ),
            ("b.png", b"3"),
            ("c.csv", b"4"),
        ]
    )
    assert sorted(n for n, _ in files) == ["a_ct.png", "a_rgb.png", "b.png"]
    items = {i.key: i for i in batch.group(files)}
    assert items["a"].ct[0] == "a_ct.png" and items["a"].rgb[0] == "a_rgb.png"
    assert items["b"].unknown[0] == "b.png"
    with pytest.raises(InputError):
        batch.expand([("bad.zip", b"PK not really")])


def test_batch_item_modality_from_colour():
    gray = batch.BatchItem("g", unknown=("g.png", ct_png()))
    ct, rgb = batch.decode_item(gray)
    assert ct is not None and rgb is None and ct.dtype == np.float32
    colour = batch.BatchItem("c", unknown=("c.png", rgb_png()))
    ct, rgb = batch.decode_item(colour)
    assert ct is None and rgb.shape[-1] == 3


def test_drawing_handles_every_dtype_and_bad_boxes():
    assert drawing.to_rgb_uint8(np.full((4, 5), 65535, np.uint16))[0, 0].tolist() == [255, 255, 255]
    assert drawing.to_rgb_uint8(np.full((3, 4, 5), 0.5, np.float32)).shape == (4, 5, 3)
    image = np.zeros((40, 40), np.float32)
    drawn = drawing.draw_boxes(
        image, [{"label": "void", "score": 0.9, "box": [5, 5, 10, 10]}, {"box": "bad"}], (255, 0, 0)
    )
    assert drawn.shape == (400, 400, 3)  # small images are enlarged (x10) before drawing
    assert drawn[150, 50].tolist() == [255, 0, 0] and drawn[300, 300].tolist() == [0, 0, 0]
    overlay = drawing.overlay_heatmap(image, np.ones((10, 10), np.float32))
    assert overlay.shape == (40, 40, 3) and overlay[..., 0].mean() > 0
    strip = drawing.side_by_side([np.zeros((20, 40, 3), np.uint8), np.zeros((10, 10), np.float32)], height=16)
    assert strip.shape == (16, 32 + 4 + 16, 3)
    assert drawing.decode_png(drawing.png_bytes(strip)).shape == strip.shape


def test_charts_build_figures():
    assert len(charts.probability_bars({"a": 0.2, "b": 0.8}, "p", "b").data[0].x) == 2
    assert charts.confusion_heatmap([[1, 0], [0, 1]], ["a", "b"], "cm").data[0].z[0][0] == 1
    assert len(charts.roc_curve({"roc": ([0, 1], [0, 1])}, "roc").data) == 2
    assert charts.score_gauge(0.2, 0.1, "s").data[0].value == 0.2
    assert charts.timing_bars({"ct": 10.0}, "t").data[0].x == (10.0,)


def test_samples_without_pair_id_pair_by_battery(tmp_path):
    for name in ("b_ct.png", "b_rgb.png", "b_rgb2.png"):
        (tmp_path / name).write_bytes(rgb_png())
    (tmp_path / "manifest.csv").write_text(
        "image_path,modality,battery_id,battery_type,axis,label,pair_id\n"
        "b_ct.png,ct,b,module,y,module_porosity,\n"
        "b_rgb.png,rgb,b,module,,scratch,\n"
        "b_rgb2.png,rgb,b,module,,normal,\n"
        "missing.png,ct,c,cell,x,cell_normal,\n"
    )
    samples = list_samples(tmp_path)
    assert [(s.key, s.ct_path and s.ct_path.name, s.rgb_path.name) for s in samples] == [
        ("b#1", "b_ct.png", "b_rgb.png"),
        ("b#2", None, "b_rgb2.png"),
    ]
    assert samples[0].labels == ("module_porosity", "scratch") and samples[0].axis == "y"


def test_markdown_images_are_split_out(tmp_path):
    from inspector.ui.artifacts import split_markdown

    (tmp_path / "roc.png").write_bytes(b"x")
    parts = split_markdown(
        "intro\n\n![ROC](roc.png)\n\n![web](https://x/y.png) ![gone](no.png)\nend", tmp_path
    )
    assert parts[0].strip() == "intro"
    assert parts[1] == ("ROC", (tmp_path / "roc.png").resolve())
    assert "https://x/y.png" in parts[2] and "no.png" in parts[2]
