"""Every label exists in Korean and English, and every key the app uses is defined."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from inspector.i18n import LANGUAGES, STRINGS, VERDICTS, t, verdict_bilingual

REPO = Path(__file__).resolve().parents[2]
SOURCES = [
    REPO / "app.py",
    *sorted((REPO / "pages").glob("*.py")),
    *sorted((REPO / "inspector" / "ui").glob("*.py")),
    REPO / "inspector" / "report.py",
]
# t("key" ...) calls and i18n keys passed around as strings ("page.inspect", "summary.x", ...)
CALL = re.compile(r"""\bt\(\s*f?["']([a-z_]+\.[a-z_.{}]+)["']""")


def test_every_string_has_both_languages_and_same_placeholders():
    for key, entry in STRINGS.items():
        assert set(entry) == set(LANGUAGES), key
        holes = [set(re.findall(r"{(\w+)", entry[lang])) for lang in LANGUAGES]
        assert holes[0] == holes[1], f"{key}: placeholders differ"
        assert all(entry[lang].strip() for lang in LANGUAGES), key


def test_every_key_used_in_the_code_exists():
    used = set()
    for path in SOURCES:
        used |= {m for m in CALL.findall(path.read_text(encoding="utf-8")) if "{" not in m}
    assert used, "the pattern found no t() calls"
    missing = sorted(k for k in used if k not in STRINGS)
    assert not missing, missing


@pytest.mark.parametrize(
    "prefix,values",
    [
        ("verdict.", VERDICTS),
        ("battery.", ("cell", "module")),
        ("axis.", ("x", "y")),
        ("policy.", ("or", "and")),
        ("severity.", ("low", "medium", "high", "critical")),
        ("page.", ("inspect", "summary", "detail", "history", "models", "batch")),
    ],
)
def test_dynamic_key_families_are_complete(prefix, values):
    for value in values:
        assert prefix + value in STRINGS


def test_translation_and_verdict_names():
    assert t("verdict.internal_defect", "ko") == "내부불량"
    assert t("summary.pending", "en", backend="VLM") == "VLM running…"
    assert t("no.such.key", "en") == "no.such.key"
    assert verdict_bilingual("composite_defect") == "복합불량 (Composite defect)"


def test_every_review_reason_has_words_in_both_languages():
    from inspector.i18n import review_reasons_text
    from inspector.review import REVIEW_REASONS

    for code in REVIEW_REASONS:
        assert f"review.reason.{code}" in STRINGS, code
        assert code not in review_reasons_text([code], "ko") and code not in review_reasons_text([code], "en")
