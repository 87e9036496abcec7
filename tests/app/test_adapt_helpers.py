"""The Adapt page's helpers without Streamlit: folder root, staged uploads, install, chart."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from core.errors import InputError
from inspector.ui import adapt, batch, charts
from tests.app.conftest import rgb_png, zip_of


def test_resolve_folder_stays_under_the_root(tmp_path):
    root = tmp_path / "root"
    (root / "a" / "b").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (root / "link").symlink_to(tmp_path / "outside")
    assert adapt.resolve_folder("a/b", root) == root / "a" / "b"
    assert adapt.resolve_folder(str(root / "a"), root) == root / "a"
    for bad in ("../outside", str(tmp_path / "outside"), "link", "/"):
        with pytest.raises(InputError, match="outside"):
            adapt.resolve_folder(bad, root)
    with pytest.raises(InputError, match="not a folder"):
        adapt.resolve_folder("missing", root)
    with pytest.raises(InputError):
        adapt.resolve_folder("  ", root)


def test_root_defaults_to_data_and_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(adapt.ADAPT_ROOT_ENV, raising=False)
    assert adapt.adapt_root().name == "data"
    monkeypatch.setenv(adapt.ADAPT_ROOT_ENV, str(tmp_path))
    assert adapt.adapt_root() == tmp_path.resolve()


def test_feature_detectors_are_the_fittable_ones():
    names = adapt.feature_detectors()
    assert {"patchcore", "padim"} <= set(names) and "draem" not in names and "conv_ae" not in names
    assert adapt.default_detector(names) == "patchcore"


def test_stage_uploads_checks_sizes_before_reading(tmp_path, monkeypatch):
    def never() -> bytes:
        raise AssertionError("read before the size check")

    with pytest.raises(InputError):
        adapt.stage_uploads([("huge.zip", batch.MAX_UPLOAD_BYTES + 1, never)], tmp_path / "x")
    archive = zip_of({"a/one.png": rgb_png(1), "two.gif": b"GIF89a", "x.txt": b"x"})
    names = adapt.stage_uploads(
        [("set.zip", len(archive), lambda: archive), ("one.png", 10, lambda: rgb_png(2))], tmp_path / "n", "n"
    )
    assert sorted(names.values()) == ["one.png", "one.png", "two.gif"]
    assert all(key.startswith("n") for key in names) and len(set(names)) == 3
    assert adapt.unsupported(names) == [("two.gif", "not a PNG/JPEG/TIFF/WebP photo")]


def test_install_copies_with_a_unique_name(tmp_path):
    from core.checkpoint import save_checkpoint
    from models.rgb_ae import create_model
    from tests.inspector._checkpoints import rgb_card

    model = create_model("conv_ae_compact", channels=[4, 8], latent_channels=4)
    weights = save_checkpoint(
        model, tmp_path / "fit" / "rgb_padim", rgb_card(architecture="padim"), fp16=False
    )
    card = {"architecture": "padim", "checkpoint": str(weights)}
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    first = adapt.install(card, tmp_path / "ckpt", now)
    second = adapt.install(card, tmp_path / "ckpt", now)
    assert first == "rgb_adapted_padim_20260102T030405Z" and second == f"{first}_2"
    written = json.loads((tmp_path / "ckpt" / f"{first}.json").read_text())
    assert written["default"] is False and written["adapted"]["installed"] == "20260102T030405Z"
    assert (tmp_path / "ckpt" / f"{first}.safetensors").read_bytes() == weights.read_bytes()
    weights.unlink()
    with pytest.raises(InputError, match="Fit again"):
        adapt.install(card, tmp_path / "ckpt", now)


def test_false_alarm_rate_skips_unreadable_photos(tmp_path):
    paths = []
    for i in range(4):
        path = tmp_path / f"{i}.png"
        path.write_bytes(rgb_png(i) if i else b"broken")
        paths.append(path)
    calls = iter([True, False, False])
    assert adapt.false_alarm_rate(lambda image: next(calls), paths) == pytest.approx(1 / 3)
    assert adapt.false_alarm_rate(None, paths) is None


def test_score_histogram_draws_series_and_threshold():
    fig = charts.score_histogram([0, 1, 2], {"normal": [3, 1], "defect": []}, 1.5, "t")
    assert [trace.name for trace in fig.data] == ["normal"]  # the empty series is left out
    assert fig.layout.shapes[0].x0 == 1.5
