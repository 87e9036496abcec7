"""AppTest of the Adapt to my line page: engineers only, uploads and server folders, the fit's
results (skipped files by name, before/after false alarms, histogram), "Use this model"."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from inspector.i18n import t
from inspector.ui import adapt
from inspector.ui.state import RGB_MODEL_KEY, SAVED_PREFIX
from tests.app.conftest import page_path, rgb_png, zip_of
from tests.app.test_auth import _login, auth_config, hashes  # noqa: F401 - fixtures

NORMALS = {f"good_{i}.png": rgb_png(10 + i) for i in range(10)}


@pytest.fixture
def adapt_env(app_env, tmp_path, monkeypatch) -> dict[str, Path]:
    """A private copy of the checkpoints (the page installs into it) and a server-folder root."""
    checkpoints = tmp_path / "checkpoints"
    shutil.copytree(app_env["checkpoints"], checkpoints)
    monkeypatch.setenv("INSPECTOR_CHECKPOINTS_DIR", str(checkpoints))
    root = tmp_path / "adapt_root"
    (root / "line1").mkdir(parents=True)
    for name, data in NORMALS.items():
        (root / "line1" / name).write_bytes(data)
    monkeypatch.setenv(adapt.ADAPT_ROOT_ENV, str(root))
    return {**app_env, "checkpoints": checkpoints, "root": root}


@pytest.fixture
def stub_fit(monkeypatch) -> list[dict]:
    """``fit_detector`` replaced by a fast stub that reads the photos like the real one (skipping
    broken files with the real warning) and writes a real tiny checkpoint + card."""
    import numpy as np

    from core.checkpoint import save_checkpoint
    from models.rgb_ae import create_model
    from tests.inspector._checkpoints import rgb_card
    from training.tasks.rgb import adapt as fitting

    calls: list[dict] = []

    def fake(normals, out_dir, defects=None, config=None, backbone_weights=None, progress=None):
        calls.append({"normals": Path(normals), "defects": defects, "config": config})
        views, kept = fitting.load_photos(fitting.collect_photos(normals), 32)
        if defects is not None:
            fitting.load_photos(fitting.collect_photos(defects, "defect"), 32)
        progress(0.5, "fold 1/1 scored")
        scores = np.linspace(0.0, 1.0, len(views))
        edges = np.histogram_bin_edges(scores, bins=5)
        card = rgb_card(
            metrics={
                "threshold_rule": {"rule": "false_alarm_quantile", "target_false_alarm": config.false_alarm},
                "heldout_false_alarm": 0.1,
                "defect_recall": None,
                "n_normals": len(views),
                "n_defects": 0,
                "score_histogram": {
                    "edges": edges.tolist(),
                    "normal": np.histogram(scores, edges)[0].tolist(),
                    "defect": [],
                },
            }
        )
        model = create_model("conv_ae_compact", channels=[4, 8], latent_channels=4)
        path = save_checkpoint(model, Path(out_dir) / f"rgb_{config.detector}", card, fp16=False)
        progress(1.0, "saved")
        return {**card, "checkpoint": str(path)}

    monkeypatch.setattr(fitting, "fit_detector", fake)
    return calls


def test_operator_is_refused(app, app_env, auth_config):  # noqa: F811 - fixture
    _login(app, "kim")
    app.switch_page(page_path("adapt")).run()
    assert not app.exception
    assert any(t("adapt.engineers_only", "ko") in w.value for w in app.warning)
    with pytest.raises(KeyError):
        app.button(key="adapt_fit")


def test_upload_fit_reports_broken_file_and_use_this_model_installs_it(app, adapt_env, stub_fit):
    archive = zip_of({**NORMALS, "sub/broken.png": b"not a png at all", "notes.txt": b"x"})
    app.run()
    assert app.sidebar.selectbox(key="settings_rgb_model").value == "rgb_tiny"
    app.switch_page(page_path("adapt")).run()
    assert not app.exception
    assert app.selectbox(key="adapt_detector").value == "patchcore"
    assert app.number_input(key="adapt_false_alarm").value == pytest.approx(0.01)
    assert app.button(key="adapt_fit").disabled  # nothing uploaded yet
    app.file_uploader(key="adapt_normals_files").set_value([("line.zip", archive, "application/zip")])
    app.run()
    app.number_input(key="adapt_false_alarm").set_value(0.05)
    app.button(key="adapt_fit").click().run()
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]

    (call,) = stub_fit
    assert call["config"].detector == "patchcore" and call["config"].false_alarm == pytest.approx(0.05)
    outcome = app.session_state["adapt_result"]
    (skipped,) = outcome.skipped
    assert skipped[0] == "broken.png" and "n0010" not in skipped[1]  # by the user's name
    assert any("broken.png" in w.value for w in app.warning)
    assert outcome.metrics["n_normals"] == 10
    assert outcome.before_model == "rgb_tiny" and 0.0 <= outcome.before_false_alarm <= 1.0
    assert len(app.metric) == 4 and app.metric[1].value == "10.0%"
    assert app.get("plotly_chart")

    app.button(key="adapt_use").click().run()
    assert not app.exception
    name = app.session_state["adapt_installed"]
    assert name.startswith("rgb_adapted_conv_ae_compact_") and name.endswith("Z")  # the card's detector
    folder = adapt_env["checkpoints"]
    assert (folder / f"{name}.safetensors").is_file()
    card = json.loads((folder / f"{name}.json").read_text())
    assert card["task"] == "rgb" and card["default"] is False and card["metrics"]["n_normals"] == 10
    assert app.session_state[SAVED_PREFIX + RGB_MODEL_KEY] == name
    assert app.sidebar.selectbox(key="settings_rgb_model").value == name
    assert any(name in s.value for s in app.success)
    assert not app.get("button") or "adapt_use" not in [b.key for b in app.button]


def test_server_folder_must_lie_under_the_root(app, adapt_env, stub_fit):
    app.switch_page(page_path("adapt")).run()
    app.radio(key="adapt_source").set_value("folder").run()
    app.text_input(key="adapt_normals_dir").input("/etc").run()
    app.button(key="adapt_fit").click().run()
    assert not app.exception
    assert app.error and "outside" in app.error[0].value
    assert not stub_fit

    app.text_input(key="adapt_normals_dir").input("../").run()
    app.button(key="adapt_fit").click().run()
    assert app.error and "outside" in app.error[0].value

    app.text_input(key="adapt_normals_dir").input("line1").run()
    app.button(key="adapt_fit").click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    assert stub_fit[0]["normals"] == adapt_env["root"] / "line1"
    assert app.session_state["adapt_result"].skipped == []


def test_too_few_photos_is_one_sentence(app, adapt_env):
    app.switch_page(page_path("adapt")).run()
    app.file_uploader(key="adapt_normals_files").set_value([("a.png", rgb_png(1), "image/png")])
    app.run()
    app.button(key="adapt_fit").click().run()
    assert not app.exception
    assert app.error and "at least" in app.error[0].value and "Traceback" not in app.error[0].value
    assert "adapt_result" not in app.session_state


@pytest.mark.slow
def test_real_fit_on_a_tiny_folder(app, adapt_env):
    """The real ``fit_detector`` (PaDiM, random backbone) on ten photos of a server folder."""
    app.switch_page(page_path("adapt")).run()
    app.radio(key="adapt_source").set_value("folder").run()
    app.text_input(key="adapt_normals_dir").input(str(adapt_env["root"] / "line1")).run()
    app.selectbox(key="adapt_detector").set_value("padim").run()
    app.button(key="adapt_fit").click().run(timeout=300)
    assert not app.exception and not app.error, [e.value for e in app.error]
    outcome = app.session_state["adapt_result"]
    assert outcome.card["architecture"] == "padim" and outcome.metrics["n_normals"] == 10
    app.button(key="adapt_use").click().run()
    name = app.session_state["adapt_installed"]
    assert (adapt_env["checkpoints"] / f"{name}.safetensors").is_file()
