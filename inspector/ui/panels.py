"""The building blocks of the Summary and Detail pages: the three panels and the report card."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from inspector import report
from inspector.drawing import COLORS, data_url, draw_boxes
from inspector.i18n import review_reasons_text, verdict_label
from inspector.ui.runner import InspectionJob
from inspector.ui.state import lang, t
from inspector.ui.text import escape_markdown

SUMMARY_CHARS = 160  # the report card quotes the finding's summary up to this length

# verdict -> (colour, Material icon) of the report card's heading
VERDICT_STYLE = {
    "normal": ("green", "check_circle"),
    "internal_defect": ("red", "error"),
    "external_defect": ("orange", "warning"),
    "composite_defect": ("violet", "dangerous"),
}


def boxed_images(job: InspectionJob, inspection: dict[str, Any]) -> dict[str, np.ndarray]:
    """The pictures of an inspection with every source's boxes drawn, keyed by a caption key.

    Keys: ``ct`` (attention + CT boxes), ``rgb`` (error map + RGB boxes), ``vlg_ct`` and
    ``vlg_rgb`` (inputs + VLG boxes), or ``thumbnail`` for a reopened inspection.
    """
    images = job.images
    out: dict[str, np.ndarray] = {}
    for side in ("ct", "rgb"):
        base = images.get(f"{side}_overlay", images.get(side))
        if base is not None:
            out[side] = draw_boxes(base, (inspection.get(side) or {}).get("boxes") or [], COLORS[side])
    vlg_boxes = ((inspection.get("vlg") or {}).get("boxes")) or []
    for side in ("ct", "rgb"):
        if images.get(side) is not None and vlg_boxes:
            own = [b for b in vlg_boxes if b.get("modality", side) == side]
            out[f"vlg_{side}"] = draw_boxes(images[side], own, COLORS["vlg"])
    if "thumbnail" in images:
        out["thumbnail"] = images["thumbnail"]
    return out


def inspector_panel(job: InspectionJob, inspection: dict[str, Any], pictures: dict[str, np.ndarray]) -> None:
    """CT attention with boxes, RGB error map, class probabilities, AE score vs threshold."""
    st.subheader(t("summary.inspector"))
    if "thumbnail" in pictures and "ct" not in pictures and "rgb" not in pictures:
        st.image(data_url(pictures["thumbnail"]), width="stretch")
    ct, rgb = inspection.get("ct"), inspection.get("rgb")
    left, right = st.columns(2)
    with left:
        if ct and "ct" in pictures:
            st.image(data_url(pictures["ct"]), caption=t("summary.ct_attention"), width="stretch")
        elif not ct:
            st.caption(t("summary.no_ct"))
    with right:
        if rgb and "rgb" in pictures:
            st.image(data_url(pictures["rgb"]), caption=t("summary.rgb_error"), width="stretch")
        elif not rgb:
            st.caption(t("summary.no_rgb"))
    if rgb:
        score, threshold = rgb.get("score"), rgb.get("threshold")
        if isinstance(score, (int, float)) and isinstance(threshold, (int, float)):
            st.metric(
                t("summary.ae_score"),
                f"{score:.4g} / {threshold:.4g}",
                delta=f"{score - threshold:+.4g}",
                delta_color="inverse",
            )
    if ct and ct.get("probabilities"):
        st.markdown(f"**{t('summary.probabilities')}**")
        for name, value in ct["probabilities"].items():
            marker = " ◀" if name == ct.get("label") else ""
            st.progress(min(1.0, max(0.0, float(value))), text=f"{name} · {report.format_percent(value)}{marker}")


def vlm_panel(job: InspectionJob, inspection: dict[str, Any], title: bool = True) -> None:
    """The VLM's written finding, or why there is none yet."""
    if title:
        st.subheader(t("summary.vlm"))
    section = inspection.get("vlm")
    if _backend_status(job, "vlm", section):
        return
    finding = section.get("finding") or {}
    st.markdown(f"**{escape_markdown(finding.get('summary', ''))}**")
    severity = finding.get("severity")
    rows = [
        ("finding.defect_detected", t("finding.yes") if finding.get("defect_detected") else t("finding.no")),
        ("finding.defect_type", escape_markdown(finding.get("defect_type") or "")),
        ("finding.location", escape_markdown(finding.get("location") or "")),
        ("finding.severity", t(f"severity.{severity}") if severity else None),
        ("finding.probable_cause", escape_markdown(finding.get("probable_cause") or "")),
        ("finding.recommended_action", escape_markdown(finding.get("recommended_action") or "")),
    ]
    st.markdown("\n".join(f"- **{t(key)}**: {value}" for key, value in rows if value))


def vlg_panel(job: InspectionJob, inspection: dict[str, Any], pictures: dict[str, np.ndarray]) -> None:
    """The VLG's boxes drawn on the input images."""
    st.subheader(t("summary.vlg"))
    section = inspection.get("vlg")
    if _backend_status(job, "vlg", section):
        return
    shown = False
    for side in ("ct", "rgb"):
        if f"vlg_{side}" in pictures:
            st.image(data_url(pictures[f"vlg_{side}"]), caption=side.upper(), width="stretch")
            shown = True
    boxes = section.get("boxes") or []
    if not shown and not boxes:
        st.info(t("summary.no_boxes"))
    if boxes:
        st.markdown(
            "\n".join(
                f"- {escape_markdown(str(b.get('modality', '')).upper())} **{escape_markdown(b.get('label', ''))}** "
                f"{float(b.get('score') or 0):.2f} `{[round(float(v)) for v in b.get('box', [])]}`"
                for b in boxes
            )
        )


def _backend_status(job: InspectionJob, kind: str, section: dict[str, Any] | None) -> bool:
    """Show the pending / disabled / failed state; ``True`` when there is nothing else to show."""
    if job.is_pending(kind) or section is None:
        if job.is_pending(kind):
            st.info(t("summary.pending", backend=kind.upper()), icon=":material/hourglass_top:")
        else:
            st.caption(t("summary.disabled"))
        return True
    if not section.get("backend"):
        st.caption(t("summary.disabled"))
        return True
    latency = section.get("latency_ms")
    caption = section["backend"] + (f" · {t('summary.latency', ms=latency)}" if latency is not None else "")
    st.caption(caption)
    if section.get("error"):
        st.warning(
            t("summary.failed", backend=section["backend"], error=section["error"]), icon=":material/warning:"
        )
        return True
    return False


def report_card(job: InspectionJob, inspection: dict[str, Any], pictures: dict[str, np.ndarray]) -> None:
    """The final report: bilingual verdict, confidence, each model's contribution, downloads."""
    st.subheader(t("summary.report"))
    verdict = inspection.get("verdict", "normal")
    if inspection.get("needs_review"):
        # plain text only: the reasons come from our own table, but never render markup from data
        st.warning(
            t("review.banner", reasons=review_reasons_text(inspection.get("review_reasons"), lang())),
            icon=":material/flag:",
        )
    left, right = st.columns([2, 3])
    with left:
        colour, icon = VERDICT_STYLE.get(verdict, ("gray", "help"))
        st.markdown(
            f"### :{colour}[:material/{icon}: {verdict_label(verdict, 'ko')} · {verdict_label(verdict, 'en')}]"
        )
        confidence = inspection.get("confidence")
        st.metric(
            t("summary.confidence"), report.format_percent(confidence)
        )
        st.caption(t("summary.verdict_note"))
    with right:
        st.markdown(f"**{t('summary.contributions')}**")
        st.markdown("\n".join(f"- {line}" for line in contributions(job, inspection)))
    downloads(job, inspection, pictures)


def contributions(job: InspectionJob, inspection: dict[str, Any]) -> list[str]:
    """One line per model saying what it found."""
    lines = []
    state_of = {True: t("summary.state_defect"), False: t("summary.state_normal")}
    ct, rgb = inspection.get("ct"), inspection.get("rgb")
    if ct:
        prob = (ct.get("probabilities") or {}).get(ct.get("label"), ct.get("confidence", 0.0))
        lines.append(
            t(
                "summary.ct_contrib",
                label=ct.get("label"),
                prob=float(prob),
                state=state_of[bool(ct.get("is_defect"))],
            )
        )
    if rgb and isinstance(rgb.get("score"), (int, float)):
        lines.append(
            t(
                "summary.rgb_contrib",
                score=rgb["score"],
                threshold=rgb.get("threshold") or 0.0,
                state=state_of[bool(rgb.get("is_defect"))],
            )
        )
    for kind in ("vlm", "vlg"):
        section = inspection.get(kind) or {}
        backend = section.get("backend")
        if job.is_pending(kind):
            lines.append(t("summary.pending", backend=kind.upper()))
        elif not backend:
            lines.append(f"{kind.upper()}: {t('summary.disabled')}")
        elif section.get("error"):
            lines.append(f"{kind.upper()} ({backend}): {t('summary.not_available')}")
        elif kind == "vlm":
            summary = (section.get("finding") or {}).get("summary") or t("summary.not_available")
            summary = (
                summary if len(summary) <= SUMMARY_CHARS else summary[: SUMMARY_CHARS - 1].rstrip() + "…"
            )
            lines.append(t("summary.vlm_contrib", backend=backend, summary=summary))
        else:
            lines.append(t("summary.vlg_contrib", backend=backend, n=len(section.get("boxes") or [])))
    return lines


def downloads(job: InspectionJob, inspection: dict[str, Any], pictures: dict[str, np.ndarray]) -> None:
    """JSON, Markdown and PDF report downloads of this inspection in the page's language."""
    language = lang()
    stem = f"inspection_{job.history_id or job.key}"
    captions = {
        "ct": t("summary.ct_attention"),
        "rgb": t("summary.rgb_error"),
        "vlg_ct": "VLG CT",
        "vlg_rgb": "VLG RGB",
        "thumbnail": t("summary.inspector"),
    }
    pdf_images = {captions.get(k, k): v for k, v in pictures.items()}
    downloads = (  # (format, label key, data or a lazy callable, mime, icon)
        ("json", "summary.download_json", report.report_json(inspection), "application/json", "data_object"),
        (
            "md",
            "summary.download_md",
            report.report_markdown(inspection, language),
            "text/markdown",
            "description",
        ),
        (
            "pdf",
            "summary.download_pdf",
            lambda: report.report_pdf(inspection, language, pdf_images),
            "application/pdf",
            "picture_as_pdf",
        ),
    )
    for col, (ext, label, data, mime, icon) in zip(st.columns(len(downloads)), downloads):
        col.download_button(
            t(label),
            data,
            file_name=f"{stem}.{ext}",
            mime=mime,
            on_click="ignore",
            key=f"dl_{ext}_{job.key}",
            icon=f":material/{icon}:",
        )
