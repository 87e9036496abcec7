"""Login and roles: no config means the local single-user mode; with a config, a login first,
operators see their own history and no advanced settings, engineers everything; audit rows."""

from __future__ import annotations

import pytest
import yaml

from core.errors import ConfigError
from inspector.history import HistoryStore
from inspector.i18n import t
from inspector.ui import auth
from tests.app.conftest import ct_png, page_path

PASSWORDS = {"kim": "kim-pass-1", "lee": "lee-pass-2"}


@pytest.fixture(scope="module")
def hashes() -> dict[str, str]:
    import bcrypt

    return {u: bcrypt.hashpw(p.encode(), bcrypt.gensalt(rounds=4)).decode() for u, p in PASSWORDS.items()}


@pytest.fixture
def auth_config(tmp_path, hashes, monkeypatch):
    config = {
        "cookie": {"name": "inspector_test", "key": "a-test-secret-that-is-long-enough", "expiry_days": 1},
        "credentials": {
            "usernames": {
                "kim": {"name": "Kim", "email": "kim@example.com", "password": hashes["kim"], "roles": ["operator"]},
                "lee": {"name": "Lee", "email": "lee@example.com", "password": hashes["lee"], "roles": ["engineer"]},
            }
        },
    }
    path = tmp_path / "auth.yaml"
    path.write_text(yaml.safe_dump(config))
    monkeypatch.setenv(auth.AUTH_CONFIG_ENV, str(path))
    return path


def _login(app, username: str) -> None:
    app.run()
    assert not app.exception
    app.text_input[0].input(username)
    app.text_input[1].input(PASSWORDS[username])
    app.button[0].click().run()
    assert not app.exception


def test_without_a_config_the_app_is_local_and_single_user(app):
    app.run()
    assert not app.exception
    assert app.title[0].value == t("inspect.title", "ko")
    assert app.session_state[auth.USER_KEY] == auth.LOCAL
    assert app.sidebar.slider(key="settings_ct_threshold")  # advanced settings shown


def test_with_a_config_nothing_shows_before_login(app, auth_config):
    app.run()
    assert not app.exception
    assert not [x for x in app.title if x.value == t("inspect.title", "ko")]
    assert any(t("auth.prompt", "ko") in i.value for i in app.info)


def test_wrong_password_is_refused(app, auth_config):
    app.run()
    app.text_input[0].input("kim")
    app.text_input[1].input("wrong")
    app.button[0].click().run()
    assert not app.exception
    assert auth.USER_KEY not in app.session_state
    assert any(t("auth.failed", "ko") in e.value for e in app.error)


def test_operator_sees_own_history_only_and_no_advanced_settings(app, app_env, auth_config):
    store = HistoryStore(f"sqlite:///{app_env['db']}")
    store.add({"verdict": "normal", "confidence": 0.9}, ct_name="lees.png", user="lee")
    _login(app, "kim")
    assert app.session_state[auth.USER_KEY].role == "operator"
    assert app.title[0].value == t("inspect.title", "ko")
    with pytest.raises(KeyError):
        app.sidebar.slider(key="settings_ct_threshold")
    app.file_uploader(key="upload_ct").set_value(("kims_ct.png", ct_png(), "image/png"))
    app.run()
    app.button(key="inspect_run").click().run()
    assert not app.exception
    (mine,) = store.query(user="kim")
    assert mine.ct_name == "kims_ct.png"
    (row,) = store.audit_log(user="kim")
    assert row.action == "inspect" and row.detail["inputs"]["ct"] == "kims_ct.png"
    assert set(row.detail["thresholds"]) == {"ct", "rgb", "policy"} and row.detail["models"]["ct"]

    app.switch_page(page_path("history")).run()
    assert not app.exception
    shown = app.dataframe[0].value
    assert "kims_ct.png" in shown.to_string() and "lees.png" not in shown.to_string()


def test_engineer_sees_everyones_history_and_the_advanced_settings(app, app_env, auth_config):
    store = HistoryStore(f"sqlite:///{app_env['db']}")
    store.add({"verdict": "normal", "confidence": 0.9}, ct_name="kims.png", user="kim")
    store.add({"verdict": "normal", "confidence": 0.9}, ct_name="lees.png", user="lee")
    _login(app, "lee")
    assert app.sidebar.slider(key="settings_ct_threshold")
    app.switch_page(page_path("history")).run()
    shown = app.dataframe[0].value.to_string()
    assert "kims.png" in shown and "lees.png" in shown


def test_config_with_a_plain_password_is_refused(tmp_path):
    path = tmp_path / "auth.yaml"
    path.write_text(yaml.safe_dump({
        "cookie": {"key": "secret"},
        "credentials": {"usernames": {"kim": {"name": "Kim", "password": "hunter2", "roles": ["operator"]}}},
    }))
    with pytest.raises(ConfigError, match="not a bcrypt hash") as caught:
        auth.load_config(path)
    assert "hunter2" not in str(caught.value)


def test_config_needs_a_cookie_key_and_known_roles(tmp_path, hashes):
    path = tmp_path / "auth.yaml"
    user = {"name": "Kim", "password": hashes["kim"], "roles": ["admin"]}
    path.write_text(yaml.safe_dump({"cookie": {"key": "x"}, "credentials": {"usernames": {"kim": user}}}))
    with pytest.raises(ConfigError, match="unknown role"):
        auth.load_config(path)
    user["roles"] = ["operator"]
    path.write_text(yaml.safe_dump({"credentials": {"usernames": {"kim": user}}}))
    with pytest.raises(ConfigError, match="cookie.key"):
        auth.load_config(path)
