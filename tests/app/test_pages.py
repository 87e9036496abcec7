"""AppTest of the other pages: every page renders, History reopens, Models reads cards, Batch."""

from __future__ import annotations

import pytest

from inspector.history import HistoryStore
from inspector.i18n import t
from inspector.ui import navigation
from tests.app.conftest import ct_png, page_path, rgb_png, zip_of


@pytest.mark.parametrize("key", list(navigation.PAGES))
def test_every_page_renders_in_both_languages(app, key):
    for lang in ("ko", "en"):
        app.run()
        app.sidebar.radio(key="lang").set_value(lang)
        app.switch_page(page_path(key)).run()
        assert not app.exception, app.exception
        assert not app.error, [e.value for e in app.error]
        assert app.title, f"{key} has no title"


def test_empty_summary_points_to_inspect(app):
    app.switch_page(page_path("summary")).run()
    assert "아직 검사 결과가 없습니다" in app.info[0].value


def test_history_filters_and_reopens(app, app_env):
    store = HistoryStore(f"sqlite:///{app_env['db']}")
    base = {"ct": None, "rgb": None, "vlm": None, "vlg": None, "timings_ms": {}}
    store.add(base | {"verdict": "normal", "confidence": 0.9}, rgb_name="good.png")
    second = store.add(base | {"verdict": "external_defect", "confidence": 0.7}, rgb_name="dent.png")

    app.switch_page(page_path("history")).run()
    assert len(app.dataframe[0].value) == 2
    app.multiselect(key="history_verdicts").set_value(["external_defect"]).run()
    assert len(app.dataframe[0].value) == 1
    assert app.selectbox(key="history_choice").value == second
    app.button(key="history_reopen").click().run()
    assert not app.exception
    assert app.title[0].value == t("summary.title", "ko")
    assert app.session_state["current_inspection"].history_id == second
    assert any("외부불량" in m.value for m in app.markdown)


def test_models_page_shows_cards_metrics_and_ablation(app):
    app.switch_page(page_path("models")).run()
    assert not app.exception
    assert [tab.label for tab in app.tabs] == [
        ":material/star: ct_tiny",
        "ct_other",
        ":material/star: rgb_tiny",
    ]
    assert len(app.get("plotly_chart")) >= 4  # confusion matrix + ROC for each CT card
    metrics = app.dataframe[0].value
    assert "macro_f1" in set(metrics.iloc[:, 0])
    captions = [c.value for c in app.caption]
    assert {"report.md", "roc.png", "results.json", "table.md"} <= set(
        captions
    )  # found on disk, not hard-coded
    assert any("| S1 | 0.1 |" in m.value for m in app.markdown)  # docs/ablation/table.md
    assert any(list(d.value["strategy"]) == ["S1", "S2"] for d in app.dataframe if "strategy" in d.value)
    labels = [e.label for e in app.expander]
    assert "ct architecture comparison" in labels and "DEVELOPING" not in labels
    assert "ct tiny" not in labels  # its report is shown with its card, not twice
    assert not any("not a report" in m.value for m in app.markdown)


def test_no_checkpoints_is_said_clearly(app, monkeypatch, tmp_path):
    monkeypatch.setenv("INSPECTOR_CHECKPOINTS_DIR", str(tmp_path / "empty"))
    app.run()
    assert any("checkpoint" in w.value.lower() or "체크포인트" in w.value for w in app.warning)
    app.file_uploader(key="upload_rgb").set_value(("x_rgb.png", rgb_png(), "image/png"))
    app.run()
    app.button(key="inspect_run").click().run()
    assert not app.exception
    assert app.error and "checkpoint" in app.error[0].value.lower()


def test_batch_zip_gives_table_progress_and_csv(app):
    archive = zip_of(
        {"b1_ct.png": ct_png(3), "b1_rgb.png": rgb_png(3), "lone.png": rgb_png(4), "readme.txt": b"x"}
    )
    app.switch_page(page_path("batch")).run()
    app.file_uploader(key="batch_files").set_value(
        [("set.zip", archive, "application/zip"), ("bad.png", b"not an image", "image/png")]
    )
    app.run()
    app.button(key="batch_run").click().run()
    assert not app.exception
    rows = app.session_state["batch_results"]
    by_item = {r["item"]: r for r in rows}
    assert set(by_item) == {"b1", "lone", "bad"}
    assert by_item["b1"]["ct_file"] == "b1_ct.png" and by_item["b1"]["rgb_file"] == "b1_rgb.png"
    assert by_item["b1"]["verdict"] is not None and by_item["lone"]["rgb_file"] == "lone.png"
    assert by_item["bad"]["verdict"] is None and "bad.png" in by_item["bad"]["error"]
    assert len(app.dataframe[0].value) == 3
    assert app.get("download_button")


def test_models_page_shows_the_verdict_calibration(app, app_env, monkeypatch, tmp_path):
    import shutil

    from inspector.calibration import CALIBRATION_FILE, VerdictCalibration

    app.switch_page(page_path("models")).run()
    assert any("calibrate" in i.value for i in app.info)  # no calibration file: said so
    charts_before = len(app.get("plotly_chart"))

    folder = tmp_path / "ckpt"
    shutil.copytree(app_env["checkpoints"], folder)
    bins = [{"lo": i / 10, "hi": (i + 1) / 10, "n": 5 * (i > 5), "confidence": i / 10 + 0.05,
             "accuracy": i / 10} for i in range(10)]  # fmt: skip
    report = {
        "fit": {"data": "data/seed4", "split": "all", "n": 300},
        "eval": {"data": "data/seed1", "split": "test", "n": 40, "ece_raw": 0.125, "ece_calibrated": 0.043,
                 "reliability_raw": bins, "reliability_calibrated": bins},
    }  # fmt: skip
    VerdictCalibration([0.0, 1.0], [0.2, 0.9], {"ct": "ct_tiny", "rgb": "rgb_tiny"}, report=report).save(
        folder / CALIBRATION_FILE
    )
    monkeypatch.setenv("INSPECTOR_CHECKPOINTS_DIR", str(folder))
    app.run()
    assert not app.exception
    caption = next(c.value for c in app.caption if "ECE" in c.value)
    assert "seed4" in caption and "seed1 test" in caption and "0.125 → 0.043" in caption
    assert len(app.get("plotly_chart")) == charts_before + 1  # the reliability diagram
