"""AppTest of the Compare page: the bench runs on a chosen dataset and shows its table and figures."""

from __future__ import annotations

import pytest

from inspector.cli import main
from tests.app.conftest import page_path


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    out = tmp_path_factory.mktemp("pairs")
    assert main(["synth", "--out", str(out), "--batteries", "8", "--size", "64",
                 "--ct-per-battery", "1", "--rgb-per-battery", "1"]) == 0
    return out


def test_compare_page_runs_the_bench(app, pairs):
    app.switch_page(page_path("compare")).run()
    assert not app.exception
    app.text_input(key="compare_data").set_value(str(pairs))
    app.selectbox(key="compare_split").set_value("all")
    app.multiselect(key="compare_vlms").set_value(["findings_writer"])
    app.multiselect(key="compare_vlgs").set_value(["model_boxes"])
    app.run()
    app.button(key="compare_run").click().run()
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    table = app.dataframe[0].value
    assert list(table["name"]) == ["inspector", "findings_writer", "model_boxes", "findings_writer+model_boxes"]
    assert list(table["n"]) == [8, 8, 8, 8]
    result = app.session_state["compare_result"]
    assert result["n_pairs"] == 8 and len(result["agreement"]) == 6
    assert len(app.get("plotly_chart")) == 4 + 1  # a confusion matrix per system + the kappa map


def test_compare_page_says_when_a_folder_has_no_pairs(app, tmp_path):
    app.switch_page(page_path("compare")).run()
    app.text_input(key="compare_data").set_value(str(tmp_path / "nowhere"))
    app.run()
    app.button(key="compare_run").click().run()
    assert not app.exception
    assert app.error
