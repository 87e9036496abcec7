"""Lazy lookup of the functions behind ``train <target>`` and ``evaluate <target>``.

Each target is a ``"module:function"`` string so that a new task registers here with one
line and importing the CLI never imports torch-heavy modules it does not need.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from core.errors import InputError, InspectorError

# train <target> --config FILE --data DIR --out DIR   ->  fn(config_path, data_dir, out_dir, **extra)
TRAIN_TARGETS: dict[str, str] = {
    "ct": "training.tasks.ct:train_from_cli",
    "rgb": "training.tasks.rgb:train_from_cli",
    "gain": "training.tasks.gain:train_from_cli",
}

# evaluate <target> ...  ->  fn(args) -> dict  (the command writes the JSON)
EVALUATE_TARGETS: dict[str, str] = {
    "ct": "training.tasks.ct:evaluate_from_cli",
    "rgb": "training.tasks.rgb:evaluate_from_cli",
    "gain": "training.tasks.gain:evaluate_from_cli",
    "vlm": "inspector.evaluation.vlm:evaluate_from_cli",
    "vlg": "inspector.evaluation.vlg:evaluate_from_cli",
    "review": "inspector.evaluation.review:evaluate_from_cli",
}


# targets whose --data may be given several times (leave-one-engine-out training and evaluation)
MULTI_DATA_TARGETS: frozenset[str] = frozenset({"ct", "gain", "review"})


def one_or_many(data: list[str], target: str, verb: str) -> str | list[str]:
    """``--data`` as one folder, or a list for the targets that take several.

    Raises:
        InputError: Several folders for a target that takes one.
    """
    if len(data) == 1:
        return data[0]
    if target not in MULTI_DATA_TARGETS:
        raise InputError(f"{verb} {target} takes one --data folder, got {len(data)}")
    return list(data)


def resolve(spec: str) -> Callable:
    """Import ``"package.module:function"`` and return the function."""
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise InspectorError(f"{spec} is not available in this build ({exc})") from exc
    return getattr(module, attr)
