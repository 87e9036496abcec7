"""AppTest of the Summary page's three-system table, the live VLG threshold slider, plain model text."""

from __future__ import annotations

from streamlit.util import calc_hash

from inspector.i18n import t
from tests.app.test_inspect_flow import _markdown, _upload_pair, _wait_done

EVIL = "[click](http://evil.example) :red[alarm] <b>bold</b> # heading"


def _script(job):
    """A known inspection: composite verdict, a VLM that says normal, VLG boxes at 0.9 (CT) and 0.4 (RGB)."""
    inspection = job.inspection
    inspection["verdict"], inspection["confidence"] = "composite_defect", 0.8
    inspection["vlm"]["finding"].update(
        verdict="normal", confidence=0.7, summary=EVIL, defect_detected=False,
        boxes=[{"label": "porosity", "score": 1.0, "box": [2, 2, 8, 8], "modality": "ct"}],
    )
    inspection["vlm"]["mode"] = "blind"
    inspection["vlg"].update(
        error=None, threshold=0.3, verdict="composite_defect", confidence=0.65,
        boxes=[
            {"label": "defect", "score": 0.9, "box": [1, 1, 10, 10], "modality": "ct"},
            {"label": "defect", "score": 0.4, "box": [20, 20, 10, 10], "modality": "rgb"},
        ],
    )


def _rows(app):
    table = next(d.value for d in app.dataframe if len(d.value) == 3)
    return {row.iloc[0]: list(row) for _, row in table.iterrows()}


def test_table_slider_and_plain_text(app):
    app.run()
    app.sidebar.radio(key="lang").set_value("en")
    _upload_pair(app)
    job = _wait_done(app)
    _script(job)
    app.run()
    assert not app.exception, app.exception
    buttons = app.get("download_button")
    assert len(buttons) == 3 and not any(b.proto.disabled for b in buttons)  # the job is done: downloads on
    assert t("summary.downloads_wait", "en") not in [c.value for c in app.caption]
    rows = _rows(app)
    assert set(rows) == {"inspector", "VLM", "VLG"}
    # system, backend, mode, verdict, confidence, agreement, latency
    assert rows["VLM"][1:4] == ["findings_writer", "blind", "Normal"] and rows["VLM"][5] == "no"
    assert rows["VLG"][3] == "Composite defect" and rows["VLG"][5] == "yes"
    assert any(t("summary.disagreement", "en") in w.value for w in app.warning)
    # the slider re-filters the VLG boxes and its verdict without re-running anything
    slider = app.slider(key="summary_vlg_score")
    assert slider.value == 0.01  # model_boxes' own threshold
    slider.set_value(0.5).run()
    assert _rows(app)["VLG"][3] == "Internal defect" and _rows(app)["VLG"][5] == "no"
    app.slider(key="summary_vlg_score").set_value(0.95).run()
    assert _rows(app)["VLG"][3] == "Normal"
    assert job.inspection["vlg"]["verdict"] == "composite_defect"  # the stored result is untouched
    # model text is shown as text: no link, colour or HTML is rendered from it
    text = _markdown(app)
    assert "[click](http" not in text and ":red[alarm]" not in text and "<b>" not in text
    assert r"\[click\]" in text
    # the one defect table, the engineer's note and the legend
    assert "Defects both inside (CT) and outside (RGB)." in text.replace("\\", "")
    assert any(t("summary.engineer_note", "en") in i.value for i in app.info)
    assert any(t("summary.legend", "en") in c.value for c in app.caption)
    assert any(m.label == t("summary.ct_defect_probability", "en") for m in app.metric)


def test_new_inspection_links_back_to_inspect(app):
    _upload_pair(app)
    _wait_done(app)
    links = [link.proto for link in app.get("page_link")]
    new = [link for link in links if link.label == t("summary.new_inspection", "ko")]
    assert len(new) == 1
    # st.Page names a page by the hash of its url path (navigation.page sets url_path=key)
    assert new[0].page_script_hash == calc_hash("inspect") != calc_hash("summary")
    assert not app.exception
