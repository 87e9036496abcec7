"""JSON, Markdown and PDF reports of one inspection.

All three render the inspection JSON (see ``ARCHITECTURE.md``): the verdict with its Korean and
English names, the CT and RGB results, the VLM finding, the VLG boxes and the timings. The
Markdown and PDF share one intermediate form, a list of :class:`Section`, so they always say the
same thing.

Korean text in the PDF needs a TrueType font with Hangul. :func:`find_cjk_font` looks for one
(``INSPECTOR_PDF_FONT`` first, then the usual system font folders); without one the PDF is
written in English with Latin-1 text only and says so, instead of failing.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inspector.i18n import review_reasons_text, t, verdict_bilingual, verdict_label

log = logging.getLogger(__name__)
# fontTools reports every table it does not subset when fpdf2 embeds a TTF; that is not news.
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)

FONT_ENV = "INSPECTOR_PDF_FONT"
FONT_DIRS: tuple[str, ...] = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.fonts",
    "~/.local/share/fonts",
)
FONT_NAMES: tuple[str, ...] = (
    "NanumGothic.ttf",
    "NanumBarunGothic.ttf",
    "NotoSansKR-Regular.ttf",
    "NotoSansCJKkr-Regular.otf",
    "UnDotum.ttf",
)
# verdict -> RGB colour of the PDF's verdict banner
VERDICT_COLORS: dict[str, tuple[int, int, int]] = {
    "normal": (46, 125, 50),
    "internal_defect": (198, 40, 40),
    "external_defect": (230, 120, 0),
    "composite_defect": (106, 27, 154),
}
FINDING_FIELDS: tuple[str, ...] = (
    "summary",
    "defect_type",
    "location",
    "severity",
    "probable_cause",
    "recommended_action",
)


@dataclass
class Section:
    """One titled block of a report: ``rows`` of (label, value) and free ``lines`` of text."""

    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def find_cjk_font() -> Path | None:
    """Return a TrueType font file with Hangul glyphs, or ``None`` if none is installed."""
    override = os.environ.get(FONT_ENV)
    if override:
        path = Path(override).expanduser()
        if path.is_file():
            return path
        log.warning("%s=%s does not exist; searching the system fonts", FONT_ENV, override)
    for folder in FONT_DIRS:
        root = Path(folder).expanduser()
        if not root.is_dir():
            continue
        for name in FONT_NAMES:
            hit = next(root.rglob(name), None)
            if hit is not None:
                return hit
    return None


def report_json(inspection: Mapping[str, Any]) -> str:
    """The inspection as pretty-printed JSON (UTF-8 text, Korean kept readable)."""
    return json.dumps(_jsonable(inspection), ensure_ascii=False, indent=2)


def report_markdown(inspection: Mapping[str, Any], lang: str = "en") -> str:
    """The inspection as a Markdown document in ``lang`` (the verdict is always bilingual)."""
    out = [f"# {t('report.title', lang)}", ""]
    for section in build_sections(inspection, lang):
        out += [f"## {section.title}", ""]
        if section.rows:
            out += [f"| {t('report.item', lang)} | {t('report.value', lang)} |", "|---|---|"]
            out += [f"| {_md_cell(k)} | {_md_cell(v)} |" for k, v in section.rows]
            out.append("")
        if section.lines:
            out += [f"- {line}" for line in section.lines]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def report_pdf(
    inspection: Mapping[str, Any],
    lang: str = "en",
    images: Mapping[str, np.ndarray] | None = None,
) -> bytes:
    """The inspection as a PDF.

    Args:
        inspection: the inspection JSON.
        lang: ``"ko"`` or ``"en"``; Korean falls back to English when no Hangul font exists.
        images: optional captioned pictures (e.g. ``{"CT attention": overlay}``) placed at the end.

    Returns:
        The PDF file content.
    """
    from fpdf import FPDF

    font = find_cjk_font()
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    if font is not None:
        pdf.add_font("report", fname=str(font))
        family, clean = "report", str
    else:
        log.info("no Hangul font found; writing an English-only PDF")
        family, clean, lang = "Helvetica", _latin1, "en"
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    pdf.set_font(family, size=18)
    pdf.multi_cell(width, 10, clean(t("report.title", lang)), new_x="LMARGIN", new_y="NEXT")
    if font is None:
        pdf.set_font(family, size=9)
        pdf.multi_cell(width, 5, t("report.font_note", "en"), new_x="LMARGIN", new_y="NEXT")
    verdict = inspection.get("verdict")
    if verdict:
        pdf.ln(2)
        pdf.set_fill_color(*VERDICT_COLORS.get(verdict, (90, 90, 90)))
        pdf.set_text_color(255, 255, 255)
        pdf.set_font(family, size=16)
        name = verdict_bilingual(verdict) if font is not None else verdict_label(verdict, "en")
        banner = f"{name}  {format_percent(inspection.get('confidence'))}"
        pdf.cell(width, 12, clean(banner), fill=True, new_x="LMARGIN", new_y="NEXT", align="C")
        pdf.set_text_color(0, 0, 0)
    pdf.set_fill_color(244, 246, 248)
    pdf.set_draw_color(200, 200, 200)
    for section in build_sections(inspection, lang, bilingual=font is not None):
        pdf.ln(4)
        pdf.set_font(family, size=13)
        pdf.multi_cell(width, 8, clean(section.title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, size=9.5)
        if section.rows:
            with pdf.table(
                col_widths=(0.35, 0.65),
                first_row_as_headings=False,
                line_height=5.5,
                text_align="LEFT",
                cell_fill_mode="EVEN_ROWS",
            ) as table:
                for key, value in section.rows:
                    table.row((clean(key), clean(value)))
        for line in section.lines:
            pdf.multi_cell(width, 5.5, clean(f"- {line}"), new_x="LMARGIN", new_y="NEXT")
    if images:
        _pdf_images(pdf, images, family, clean, lang, width)
    return bytes(pdf.output())


def build_sections(inspection: Mapping[str, Any], lang: str, bilingual: bool = True) -> list[Section]:
    """Turn an inspection JSON into report sections.

    Args:
        inspection: the inspection JSON.
        lang: language of the labels.
        bilingual: name the verdict in Korean and English (else only in ``lang``).
    """
    sections = [_summary_section(inspection, lang, bilingual)]
    sections.append(_ct_section(inspection.get("ct"), lang))
    sections.append(_rgb_section(inspection.get("rgb"), lang))
    sections.append(_vlm_section(inspection.get("vlm"), lang))
    sections.append(_vlg_section(inspection.get("vlg"), lang))
    timings = inspection.get("timings_ms") or {}
    if timings:
        rows = [(str(name), f"{float(ms):.0f} ms") for name, ms in timings.items() if _is_number(ms)]
        sections.append(Section(t("report.timings", lang), rows=rows))
    return sections


def _summary_section(inspection: Mapping[str, Any], lang: str, bilingual: bool) -> Section:
    section = Section(t("report.verdict", lang))
    verdict = inspection.get("verdict")
    if verdict:
        name = verdict_bilingual(verdict) if bilingual else verdict_label(verdict, lang)
    else:
        name = "-"
    section.rows.append((t("report.verdict", lang), name))
    section.rows.append((t("report.confidence", lang), format_percent(inspection.get("confidence"))))
    if inspection.get("needs_review"):
        reasons = review_reasons_text(inspection.get("review_reasons"), lang)
        label = f"{t('review.needs_review', 'ko')} / {t('review.needs_review', 'en')}" if bilingual else t("review.needs_review", lang)
        section.rows.append((label, reasons or "-"))
    if inspection.get("created"):
        section.rows.append((t("report.created", lang), str(inspection["created"])))
    inputs = inspection.get("inputs") or {}
    for key, value in inputs.items():
        if value not in (None, ""):
            section.rows.append((f"{t('report.inputs', lang)}: {key}", str(value)))
    return section


def _ct_section(ct: Mapping[str, Any] | None, lang: str) -> Section:
    section = Section(t("report.ct", lang))
    if not ct:
        section.lines.append(t("report.not_provided", lang))
        return section
    section.rows.append((t("report.label", lang), str(ct.get("label", "-"))))
    section.rows.append((t("report.is_defect", lang), _yes_no(ct.get("is_defect"), lang)))
    section.rows.append((t("report.confidence", lang), format_percent(ct.get("confidence"))))
    for name, prob in _probabilities(ct.get("probabilities")):
        section.rows.append((name, format_percent(prob)))
    section.lines += _box_lines(ct.get("boxes"), lang)
    return section


def _rgb_section(rgb: Mapping[str, Any] | None, lang: str) -> Section:
    section = Section(t("report.rgb", lang))
    if not rgb:
        section.lines.append(t("report.not_provided", lang))
        return section
    section.rows.append((t("report.score", lang), _num(rgb.get("score"))))
    section.rows.append((t("report.threshold", lang), _num(rgb.get("threshold"))))
    section.rows.append((t("report.is_defect", lang), _yes_no(rgb.get("is_defect"), lang)))
    section.rows.append((t("report.confidence", lang), format_percent(rgb.get("confidence"))))
    section.lines += _box_lines(rgb.get("boxes"), lang)
    return section


def _backend_section(title_key: str, part: Mapping[str, Any] | None, lang: str) -> Section:
    """The part every VLM/VLG section shares: title, "not run", backend name and error."""
    section = Section(t(title_key, lang))
    if not part:
        section.lines.append(t("report.not_run", lang))
        return section
    section.rows.append((t("report.backend", lang), str(part.get("backend", "-"))))
    if part.get("error"):
        section.rows.append((t("report.error", lang), str(part["error"])))
    return section


def _vlm_section(vlm: Mapping[str, Any] | None, lang: str) -> Section:
    section = _backend_section("report.vlm", vlm, lang)
    if not vlm:
        return section
    finding = vlm.get("finding") or {}
    if finding:
        section.rows.append(
            (t("finding.defect_detected", lang), _yes_no(finding.get("defect_detected"), lang))
        )
    for key in FINDING_FIELDS:
        value = finding.get(key)
        if value in (None, ""):
            continue
        if key == "severity":
            value = t(f"severity.{value}", lang)
        section.rows.append((t(f"finding.{key}", lang), str(value)))
    section.lines += _box_lines(finding.get("boxes"), lang)
    return section


def _vlg_section(vlg: Mapping[str, Any] | None, lang: str) -> Section:
    section = _backend_section("report.vlg", vlg, lang)
    if not vlg:
        return section
    section.lines += _box_lines(vlg.get("boxes"), lang)
    return section


def _pdf_images(
    pdf: Any, images: Mapping[str, np.ndarray], family: str, clean, lang: str, width: float
) -> None:
    """Place the pictures two per row on a new page, each with its caption underneath."""
    from PIL import Image

    from inspector.drawing import to_rgb_uint8

    pdf.add_page()
    pdf.set_font(family, size=13)
    pdf.multi_cell(width, 8, clean(t("report.images", lang)), new_x="LMARGIN", new_y="NEXT")
    gap = 8.0
    side = (width - gap) / 2
    items = list(images.items())
    for row in range(0, len(items), 2):
        if pdf.get_y() + side + 8 > pdf.h - pdf.b_margin:
            pdf.add_page()
        top = pdf.get_y()
        for column, (caption, array) in enumerate(items[row : row + 2]):
            x = pdf.l_margin + column * (side + gap)
            picture = Image.fromarray(to_rgb_uint8(array))
            pdf.image(picture, x=x, y=top, w=side, h=side, keep_aspect_ratio=True)
            pdf.set_xy(x, top + side + 1)
            pdf.set_font(family, size=9)
            pdf.cell(side, 5, clean(str(caption)))
        pdf.set_xy(pdf.l_margin, top + side + 8)


def _box_lines(boxes: Sequence[Mapping] | None, lang: str) -> list[str]:
    lines = []
    for item in boxes or []:
        box = ", ".join(f"{float(v):.0f}" for v in item.get("box", []))
        score = item.get("score")
        score_text = f" ({float(score):.2f})" if _is_number(score) else ""
        lines.append(f"{t('report.boxes', lang)}: {item.get('label', '')}{score_text} [{box}]")
    return lines


def _probabilities(probabilities: Any) -> list[tuple[str, float]]:
    if isinstance(probabilities, Mapping):
        return [(str(k), float(v)) for k, v in probabilities.items()]
    if isinstance(probabilities, Sequence) and not isinstance(probabilities, str):
        return [(str(i), float(v)) for i, v in enumerate(probabilities)]
    return []


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, bool)


def format_percent(value: Any) -> str:
    """A probability as a percentage with one decimal, ``"-"`` when it is not a number.

    Never rounds to a certainty the model did not state: 0.9997 is ``">99.9%"``, not
    ``"100.0%"``, and 0.0003 is ``"<0.1%"``, not ``"0.0%"``.
    """
    if not _is_number(value) or not np.isfinite(float(value)):
        return "-"
    v = float(value)
    text = f"{v:.1%}"
    if text == "100.0%" and v < 1.0:
        return ">99.9%"
    if text == "0.0%" and v > 0.0:
        return "<0.1%"
    return text


def _num(value: Any) -> str:
    return f"{float(value):.4g}" if _is_number(value) else "-"


def _yes_no(value: Any, lang: str) -> str:
    if value is None:
        return "-"
    return t("finding.yes" if value else "finding.no", lang)


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _latin1(text: str) -> str:
    return str(text).encode("latin-1", errors="replace").decode("latin-1")
