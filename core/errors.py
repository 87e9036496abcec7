"""Errors that the CLI and the app turn into one-line messages for the user."""


class InspectorError(Exception):
    """A problem the user can fix (bad input, bad config, missing file or weights).

    The CLI prints ``error: <message>`` on one line and exits non-zero; the app shows the
    message in the page. Never carries a traceback to the user.
    """


class InputError(InspectorError):
    """An input image, manifest or argument is invalid."""


class ConfigError(InspectorError):
    """A YAML config or a combination of settings is invalid."""


class CheckpointError(InspectorError):
    """A checkpoint is missing, unreadable, or does not match the requested architecture."""


class BackendUnavailable(InspectorError):
    """A VLM/VLG backend cannot run here (no weights, no API key, missing package)."""


class ThresholdError(InputError):
    """No honest threshold can be chosen or applied (NaN scores, degenerate splits)."""
