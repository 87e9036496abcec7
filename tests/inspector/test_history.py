"""The SQLAlchemy history store: add, filter, reopen, update; portable schema."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateTable

from core.errors import ConfigError, InspectorError
from inspector.history import DB_URL_ENV, HistoryStore, InspectionRow, _make_engine, default_url


def _inspection(verdict: str, confidence: float) -> dict:
    return {
        "verdict": verdict,
        "confidence": confidence,
        "ct": {
            "label": "cell_normal",
            "probabilities": {},
            "is_defect": False,
            "confidence": 0.9,
            "boxes": [],
        },
        "rgb": {"score": 0.01, "threshold": 0.02, "is_defect": False, "confidence": 0.8, "boxes": []},
        "vlm": None,
        "vlg": None,
        "timings_ms": {},
    }


@pytest.fixture
def store(tmp_path):
    return HistoryStore(f"sqlite:///{tmp_path / 'history.db'}")


def test_add_and_reopen_keeps_json_and_thumbnail(store):
    record_id = store.add(_inspection("normal", 0.85), ct_name="a_ct.png", thumbnail=b"\x89PNG")
    record = store.get(record_id)
    assert record.inspection == _inspection("normal", 0.85)
    assert record.thumbnail == b"\x89PNG"
    assert record.ct_name == "a_ct.png" and record.rgb_name is None
    assert record.ct_label == "cell_normal" and record.rgb_score == pytest.approx(0.01)


def test_filters_and_newest_first(store):
    now = datetime.now(timezone.utc)
    store.add(_inspection("normal", 0.9), ct_name="one.png", created=now - timedelta(days=3))
    store.add(_inspection("internal_defect", 0.6), ct_name="two.png", created=now - timedelta(days=1))
    store.add(_inspection("external_defect", 0.95), rgb_name="THREE.png", created=now)

    assert [r.ct_name or r.rgb_name for r in store.query()] == ["THREE.png", "two.png", "one.png"]
    assert [r.verdict for r in store.query(verdicts=["internal_defect", "normal"])] == [
        "internal_defect",
        "normal",
    ]
    assert [r.rgb_name for r in store.query(name_contains="three")] == ["THREE.png"]
    assert {r.verdict for r in store.query(min_confidence=0.8)} == {"normal", "external_defect"}
    assert len(store.query(since=now - timedelta(days=2))) == 2
    assert len(store.query(limit=1)) == 1


def test_update_rewrites_json_and_columns(store):
    record_id = store.add(_inspection("normal", 0.5))
    updated = _inspection("normal", 0.5) | {"vlm": {"backend": "offline", "finding": {"summary": "ok"}}}
    store.update(record_id, updated)
    assert store.get(record_id).inspection["vlm"]["finding"]["summary"] == "ok"


def test_missing_record_is_a_user_error(store):
    with pytest.raises(InspectorError):
        store.get(12345)
    with pytest.raises(InspectorError):
        store.update(12345, {})


def test_store_persists_across_instances(tmp_path):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    record_id = HistoryStore(url).add(_inspection("composite_defect", 0.7))
    assert HistoryStore(url).get(record_id).verdict == "composite_defect"


def test_url_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(DB_URL_ENV, f"sqlite:///{tmp_path / 'env.db'}")
    assert default_url().endswith("env.db")
    HistoryStore().add(_inspection("normal", 1.0))
    assert (tmp_path / "env.db").exists()


def test_bad_url_is_a_config_error():
    with pytest.raises(ConfigError):
        HistoryStore("not a url")


def test_postgresql_urls_use_psycopg3():
    pytest.importorskip("psycopg")
    engine = _make_engine("postgresql://user:secret@db.example/inspections")  # no server needed
    assert engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg"
    assert engine.url.render_as_string(hide_password=True).endswith("user:***@db.example/inspections")


@pytest.mark.skipif(
    not os.environ.get("INSPECTOR_TEST_PG_URL"),
    reason="set INSPECTOR_TEST_PG_URL to test a PostgreSQL server",
)
def test_round_trip_on_postgresql():
    store = HistoryStore(os.environ["INSPECTOR_TEST_PG_URL"])
    record_id = store.add(_inspection("internal_defect", 0.75), ct_name="pg_ct.png", thumbnail=b"png")
    record = store.get(record_id)
    assert record.inspection == _inspection("internal_defect", 0.75) and record.thumbnail == b"png"
    assert record_id in [r.id for r in store.query(verdicts=["internal_defect"], name_contains="PG_CT")]
    store.delete(record_id)


def test_schema_compiles_for_postgresql():
    ddl = str(CreateTable(InspectionRow.__table__).compile(dialect=postgresql.dialect()))
    assert "JSON" in ddl and "BYTEA" in ddl


def test_user_column_filters_and_round_trips(store):
    mine = store.add({"verdict": "normal", "confidence": 0.9}, ct_name="a.png", user="kim")
    store.add({"verdict": "internal_defect", "confidence": 0.8}, ct_name="b.png", user="lee")
    store.add({"verdict": "normal", "confidence": 0.7}, ct_name="c.png")
    assert [r.id for r in store.query(user="kim")] == [mine]
    assert store.get(mine).user == "kim"
    assert len(store.query()) == 3  # no user filter: everyone's


def test_an_old_database_without_the_user_column_keeps_working(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # the schema before the user column
        db.execute(
            "CREATE TABLE inspections (id INTEGER PRIMARY KEY AUTOINCREMENT, created DATETIME, "
            "verdict VARCHAR(32), confidence FLOAT, ct_name VARCHAR(255), rgb_name VARCHAR(255), "
            "ct_label VARCHAR(64), rgb_score FLOAT, inspection JSON, thumbnail BLOB)"
        )
        db.execute(
            "INSERT INTO inspections (created, verdict, confidence, ct_name, inspection) "
            "VALUES ('2026-01-01 10:00:00', 'normal', 0.9, 'old.png', '{\"verdict\": \"normal\"}')"
        )
    store = HistoryStore(f"sqlite:///{path}")
    (old,) = store.query()
    assert old.ct_name == "old.png" and old.user is None
    new = store.add({"verdict": "normal"}, user="kim")
    assert [r.id for r in store.query(user="kim")] == [new]
    HistoryStore(f"sqlite:///{path}")  # opening it again adds nothing twice


def test_audit_log_keeps_who_did_what(store):
    store.audit("kim", "inspect", {"ct": "a.png", "thresholds": {"ct": 0.7}, "ct_model": "ct_a"})
    store.audit("lee", "batch", {"items": 3})
    rows = store.audit_log()
    assert [(r.user, r.action) for r in rows] == [("lee", "batch"), ("kim", "inspect")]
    assert store.audit_log(user="kim")[0].detail["thresholds"] == {"ct": 0.7}
