"""Every file of the bad-input corpus, through ``load_image`` (CT and RGB) and the CLI
(``inspect --ct F`` and ``inspect --rgb F``): accepted with a sensible result, or refused with
one clear single-line sentence. Never a traceback, never a confident verdict on a blank slice
without ``needs_review``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.errors import InputError
from core.imageio import load_image
from inspector.cli import main
from tests.badinput.corpus import SLOW, cases, write_corpus
from tests.inspector._checkpoints import default_checkpoint_dir

CASES = {case.key: case for case in cases()}
PARAMS = [pytest.param(key, marks=pytest.mark.slow) if key in SLOW else key for key in CASES]
VERDICTS = {"normal", "internal_defect", "external_defect", "composite_defect"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    return default_checkpoint_dir(tmp_path_factory.mktemp("ckpt"))


def test_the_corpus_is_big_enough():
    assert len(CASES) >= 40
    assert {c.expect for c in CASES.values()} == {"accept", "reject", "either"}


def _is_one_sentence(message: str) -> bool:
    return bool(message) and "\n" not in message and "\r" not in message and "Traceback" not in message


@pytest.mark.parametrize("key", PARAMS)
@pytest.mark.parametrize("modality", ["ct", "rgb"])
def test_load_image(corpus, key, modality):
    case = CASES[key]
    try:
        image = load_image(corpus[key], modality)
    except InputError as exc:
        assert case.expect != "accept", f"{key} was refused: {exc}"
        assert _is_one_sentence(str(exc)), repr(str(exc))
        assert " object at 0x" not in str(exc)
        return
    assert case.expect != "reject", f"{key} was accepted as {image.shape}"
    if modality == "ct":
        assert image.ndim == 2 and image.dtype == np.float32
        assert np.isfinite(image).all() and image.min() >= 0 and image.max() <= 1
    else:
        assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8
    assert min(image.shape[:2]) >= 8


def run_cli(capsys, args: list[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("key", PARAMS)
@pytest.mark.parametrize("modality", ["ct", "rgb"])
def test_cli_inspect(corpus, checkpoints, capsys, monkeypatch, key, modality):
    monkeypatch.setenv("INSPECTOR_CHECKPOINTS_DIR", str(checkpoints))
    case = CASES[key]
    args = ["inspect", f"--{modality}", str(corpus[key]), "--battery-type", "cell", "--axis", "y", "--json"]
    code, out, err = run_cli(capsys, args)
    assert "Traceback" not in out + err
    if code != 0:
        assert code == 2, f"{key}: unexpected failure (exit {code}): {err}"
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and err.rstrip("\n").endswith(errors[0]), repr(err)
        assert case.expect != "accept", f"{key} was refused: {err}"
        return
    assert case.expect != "reject", f"{key} was accepted"
    result = json.loads(out)
    assert result["verdict"] in VERDICTS
    if modality == "ct" and case.review:
        assert result["needs_review"] is True, result["review_reasons"]
    if result["verdict"] != "normal" and modality == "ct" and case.review:
        assert result["needs_review"]  # never a confident defect on a blank slice without review


def test_a_newline_in_a_file_name_gives_a_one_line_error(corpus, checkpoints, capsys, monkeypatch):
    monkeypatch.setenv("INSPECTOR_CHECKPOINTS_DIR", str(checkpoints))
    code, _, err = run_cli(capsys, ["inspect", "--ct", str(corpus["newline_name_bad"]), "--battery-type", "cell", "--axis", "y"])
    assert code == 2 and err.count("\n") == 1 and "bad?name.png" in err


def test_an_animated_gif_is_refused_saying_why(corpus):
    with pytest.raises(InputError, match="animated GIF \\(3 frames\\)"):
        load_image(corpus["animated_gif"], "rgb")
