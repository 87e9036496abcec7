"""Login and roles with ``streamlit-authenticator``; a local single-user mode without a config.

With no config file the app runs as before: one local user with every right (``make run``).
With a config (``INSPECTOR_AUTH_CONFIG``, else ``auth.yaml`` in the working directory) every
page asks for a login first. The YAML holds bcrypt-hashed passwords only (see the README)::

    cookie: {name: inspector_auth, key: <a long random secret>, expiry_days: 1}
    credentials:
      usernames:
        kim: {name: Kim, password: "$2b$12$...", roles: [operator]}
        lee: {name: Lee, password: "$2b$12$...", roles: [engineer]}

Roles: ``operator`` inspects and sees their own history; ``engineer`` also sees everyone's
history and the advanced settings (models, backends, thresholds, policy).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from core.errors import ConfigError

log = logging.getLogger(__name__)

AUTH_CONFIG_ENV = "INSPECTOR_AUTH_CONFIG"
DEFAULT_CONFIG_NAME = "auth.yaml"
ROLES: tuple[str, ...] = ("operator", "engineer")
LOCAL_USER = "local"
USER_KEY = "auth_user"
_BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")


@dataclass(frozen=True)
class User:
    """Who is using this session.

    Attributes:
        username: Login name (``"local"`` in single-user mode).
        name: Display name.
        role: ``"operator"`` or ``"engineer"``.
        local: Single-user mode (no login configured).
    """

    username: str
    name: str
    role: str
    local: bool = False

    @property
    def is_engineer(self) -> bool:
        """Engineers see everyone's history and the advanced settings."""
        return self.role == "engineer"


LOCAL = User(LOCAL_USER, LOCAL_USER, "engineer", local=True)


def config_path() -> Path | None:
    """The login config: ``$INSPECTOR_AUTH_CONFIG``, else ``./auth.yaml`` if present, else ``None``.

    Raises:
        ConfigError: ``INSPECTOR_AUTH_CONFIG`` names a file that does not exist.
    """
    named = os.environ.get(AUTH_CONFIG_ENV)
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(f"{AUTH_CONFIG_ENV} names {path}, which is not a file")
        return path
    default = Path(DEFAULT_CONFIG_NAME)
    return default if default.is_file() else None


def load_config(path: Path) -> dict[str, Any]:
    """Read and check the login config.

    Raises:
        ConfigError: Not YAML, no users, a password that is not a bcrypt hash, an unknown
            role, or no cookie key.
    """
    import yaml

    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the login config {path.name}: {type(exc).__name__}") from None
    users = ((config.get("credentials") or {}).get("usernames")) or {}
    if not isinstance(users, dict) or not users:
        raise ConfigError(f"the login config {path.name} lists no users under credentials.usernames")
    for username, entry in users.items():
        password = str((entry or {}).get("password") or "")
        if not password.startswith(_BCRYPT_PREFIXES):
            raise ConfigError(
                f"the password of {username!r} in {path.name} is not a bcrypt hash (see the README: "
                "store hashes only, never plain passwords)"
            )
        roles = entry.get("roles") or ["operator"]
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise ConfigError(f"{username!r} has unknown role(s) {unknown}; roles are {', '.join(ROLES)}")
    cookie = config.get("cookie") or {}
    if not str(cookie.get("key") or "").strip():
        raise ConfigError(f"the login config {path.name} needs cookie.key (a long random secret)")
    return config


def role_of(roles: Any) -> str:
    """``engineer`` if it is among ``roles``, else ``operator``."""
    return "engineer" if roles and "engineer" in roles else "operator"


def current_user() -> User | None:
    """The session's user; draws the login form and returns ``None`` until someone logs in.

    Raises:
        ConfigError: the login config is invalid (the app must not fall back to no login).
    """
    path = config_path()
    if path is None:
        st.session_state[USER_KEY] = LOCAL
        return LOCAL
    import streamlit_authenticator as stauth

    from inspector.ui.state import t

    config = load_config(path)
    cookie = config["cookie"]
    authenticator = stauth.Authenticate(
        config["credentials"],
        cookie.get("name", "inspector_auth"),
        cookie["key"],
        float(cookie.get("expiry_days", 1)),
        auto_hash=False,
    )
    try:
        authenticator.login(location="main", key="auth_login", max_login_attempts=5)
    except Exception as exc:  # the widget raises for locked-out users and bad cookies
        st.error(t("auth.failed"), icon=":material/lock:")
        log.warning("login failed: %s", type(exc).__name__)
        return None
    status = st.session_state.get("authentication_status")
    if not status:
        st.session_state.pop(USER_KEY, None)
        if status is False:
            st.error(t("auth.failed"), icon=":material/lock:")
        else:
            st.info(t("auth.prompt"), icon=":material/lock:")
        return None
    username = str(st.session_state.get("username"))
    user = User(username, str(st.session_state.get("name") or username), role_of(st.session_state.get("roles")))
    st.session_state[USER_KEY] = user
    st.sidebar.caption(t("auth.signed_in", name=user.name, role=t(f"auth.role_{user.role}")))
    authenticator.logout(t("auth.logout"), location="sidebar", key="auth_logout")
    return user


def session_user() -> User:
    """The user of this session as :func:`current_user` recorded it (local mode before that)."""
    return st.session_state.get(USER_KEY) or LOCAL
