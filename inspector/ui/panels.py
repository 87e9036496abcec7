"""The building blocks of the Summary and Detail pages: the three panels and the report card."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from inspector import report
from inspector.drawing import COLORS, colormap_legend, data_url, draw_boxes
from inspector.i18n import review_reasons_text, verdict_label
from inspector.ui.runner import InspectionJob
from inspector.ui.state import VLG_SCORE_KEY, lang, t
from inspector.ui.text import escape_markdown as plain
from models.vlg.base import verdict_from_boxes
from models.vlm.verdicts import defect_info

DISAGREE_STYLE = "background-color: rgba(255, 75, 75, 0.25)"


def modalities_of(inspection: dict[str, Any]) -> list[str]:
    """The sides inspected (``ct``, ``rgb``)."""
    return [side for side in ("ct", "rgb") if inspection.get(side)]


def vlg_threshold(job: InspectionJob, inspection: dict[str, Any]) -> float | None:
    """The live VLG score threshold (the slider's value; the backend's threshold at first).

    ``None`` while the VLG has no boxes to filter. Resets for each new inspection.
    """
    section = inspection.get("vlg") or {}
    if section.get("boxes") is None or section.get("error"):
        return None
    owner = f"{VLG_SCORE_KEY}_job"
    if st.session_state.get(owner) != job.key or VLG_SCORE_KEY not in st.session_state:
        st.session_state[owner] = job.key
        st.session_state[VLG_SCORE_KEY] = float(min(1.0, max(0.0, section.get("threshold") or 0.0)))
    return float(st.session_state[VLG_SCORE_KEY])


def filter_boxes(boxes: list[dict[str, Any]], threshold: float | None) -> list[dict[str, Any]]:
    """Boxes scoring at least ``threshold`` (all when ``None``)."""
    if threshold is None:
        return list(boxes)
    return [b for b in boxes if float(b.get("score") or 0.0) >= threshold]

SUMMARY_CHARS = 160  # the report card quotes the finding's summary up to this length

# verdict -> (colour, Material icon) of the report card's heading
VERDICT_STYLE = {
    "normal": ("green", "check_circle"),
    "internal_defect": ("red", "error"),
    "external_defect": ("orange", "warning"),
    "composite_defect": ("violet", "dangerous"),
}


def boxed_images(
    job: InspectionJob, inspection: dict[str, Any], threshold: float | None = None
) -> dict[str, np.ndarray]:
    """The pictures of an inspection with every source's boxes drawn, keyed by a caption key.

    Keys: ``ct`` (attention + CT boxes), ``rgb`` (error map + RGB boxes), ``vlm_ct`` and
    ``vlm_rgb`` (inputs + the finding's boxes), ``vlg_ct`` and ``vlg_rgb`` (inputs + the VLG
    boxes scoring at least ``threshold``), or ``thumbnail`` for a reopened inspection.
    """
    images = job.images
    out: dict[str, np.ndarray] = {}
    for side in ("ct", "rgb"):
        base = images.get(f"{side}_overlay", images.get(side))
        if base is not None:
            out[side] = draw_boxes(base, (inspection.get(side) or {}).get("boxes") or [], COLORS[side])
    vlm_boxes = (((inspection.get("vlm") or {}).get("finding")) or {}).get("boxes") or []
    for side in ("ct", "rgb"):
        if images.get(side) is not None and vlm_boxes:
            own = [b for b in vlm_boxes if b.get("modality", side) == side]
            if own:
                out[f"vlm_{side}"] = draw_boxes(images[side], own, COLORS["vlm"])
    vlg_boxes = filter_boxes(((inspection.get("vlg") or {}).get("boxes")) or [], threshold)
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
    if ct or rgb:
        st.image(data_url(colormap_legend()), width="stretch")
        st.caption(t("summary.legend"))
    if ct and ct.get("probabilities"):
        normal = sum(float(v) for k, v in ct["probabilities"].items() if k.endswith("normal"))
        st.metric(t("summary.ct_defect_probability"), report.format_percent(max(0.0, 1.0 - normal)))
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


def vlm_panel(
    job: InspectionJob,
    inspection: dict[str, Any],
    title: bool = True,
    pictures: dict[str, np.ndarray] | None = None,
) -> None:
    """The VLM's written finding (as plain text: it is model output), its verdict and boxes."""
    if title:
        st.subheader(t("summary.vlm"))
    section = inspection.get("vlm")
    if _backend_status(job, "vlm", section):
        return
    finding = section.get("finding") or {}
    st.markdown(f"**{plain(finding.get('summary', ''))}**")
    severity = finding.get("severity")
    verdict = finding.get("verdict")
    rows = [
        ("summary.verdict", verdict_label(verdict, lang()) if verdict else None),
        ("summary.confidence", report.format_percent(finding["confidence"]) if finding.get("confidence") is not None else None),
        ("finding.defect_detected", t("finding.yes") if finding.get("defect_detected") else t("finding.no")),
        ("finding.defect_type", plain(finding.get("defect_type"))),
        ("finding.location", plain(finding.get("location"))),
        ("finding.severity", t(f"severity.{severity}") if severity else None),
        ("finding.probable_cause", plain(finding.get("probable_cause"))),
        ("finding.recommended_action", plain(finding.get("recommended_action"))),
    ]
    for side in ("ct", "rgb"):
        name = finding.get(f"{side}_class")
        if name:
            confidence = finding.get(f"{side}_class_confidence")
            extra = f" ({report.format_percent(confidence)})" if confidence is not None else ""
            rows.append((f"summary.{side}_class", plain(name) + extra))
    st.markdown("\n".join(f"- **{t(key)}**: {value}" for key, value in rows if value))
    for side in ("ct", "rgb"):
        if pictures and f"vlm_{side}" in pictures:
            st.image(data_url(pictures[f"vlm_{side}"]), caption=f"{t('summary.vlm_boxes')} · {side.upper()}",
                     width="stretch")


def vlg_panel(job: InspectionJob, inspection: dict[str, Any], pictures: dict[str, np.ndarray]) -> None:
    """The VLG's boxes drawn on the input images."""
    st.subheader(t("summary.vlg"))
    section = inspection.get("vlg")
    if _backend_status(job, "vlg", section):
        return
    threshold = vlg_threshold(job, inspection)
    if threshold is not None:
        st.slider(
            t("summary.vlg_threshold"), 0.0, 1.0, step=0.01, key=VLG_SCORE_KEY,
            help=t("summary.vlg_threshold_help"),
        )
    shown = False
    for side in ("ct", "rgb"):
        if f"vlg_{side}" in pictures:
            st.image(data_url(pictures[f"vlg_{side}"]), caption=side.upper(), width="stretch")
            shown = True
    boxes = filter_boxes(section.get("boxes") or [], threshold)
    if not shown and not boxes:
        st.info(t("summary.no_boxes"))
    if boxes:
        st.markdown(
            "\n".join(
                f"- {b.get('modality', '').upper()} **{plain(b.get('label', ''))}** "
                f"{float(b.get('score') or 0):.2f} `{[round(float(v)) for v in b.get('box', [])]}`"
                for b in boxes
            )
        )


def systems_rows(
    job: InspectionJob, inspection: dict[str, Any], threshold: float | None = None
) -> list[dict[str, Any]]:
    """One row per system (inspector, VLM, VLG): backend, mode, verdict, confidence, agreement, latency.

    The VLG's verdict is recomputed from the boxes at the live ``threshold``. ``agrees`` is
    ``None`` for the inspector itself and for a system with no verdict (pending, off, failed).
    """
    reference = inspection.get("verdict")
    rows = [
        {
            "system": "inspector",
            "backend": "CNN + AE",
            "mode": "-",
            "verdict": reference,
            "confidence": inspection.get("confidence"),
            "agrees": None,
            "latency_ms": (inspection.get("timings_ms") or {}).get("analyse"),
        }
    ]
    for kind in ("vlm", "vlg"):
        section = inspection.get(kind) or {}
        row: dict[str, Any] = {
            "system": kind.upper(),
            "backend": section.get("backend") or "-",
            "mode": section.get("mode") or "-",
            "verdict": None,
            "confidence": None,
            "agrees": None,
            "latency_ms": section.get("latency_ms"),
        }
        if not job.is_pending(kind) and section.get("backend") and not section.get("error"):
            if kind == "vlm":
                finding = section.get("finding") or {}
                row["verdict"], row["confidence"] = finding.get("verdict"), finding.get("confidence")
            elif section.get("boxes") is not None:
                cut = threshold if threshold is not None else section.get("threshold")
                if cut is None:
                    row["verdict"], row["confidence"] = section.get("verdict"), section.get("confidence")
                else:
                    row["verdict"], row["confidence"] = verdict_from_boxes(
                        section["boxes"], cut, modalities_of(inspection)
                    )
        if row["verdict"] is not None and reference is not None:
            row["agrees"] = row["verdict"] == reference
        rows.append(row)
    return rows


def systems_table(job: InspectionJob, inspection: dict[str, Any], threshold: float | None = None) -> None:
    """The three systems side by side; rows that disagree with the inspector are highlighted."""
    st.markdown(f"**{t('summary.systems')}**")
    rows = systems_rows(job, inspection, threshold)
    language = lang()
    agree = {True: t("summary.agree_yes"), False: t("summary.agree_no"), None: "-"}
    table = pd.DataFrame(
        {
            t("summary.col_system"): [r["system"] for r in rows],
            t("summary.col_backend"): [r["backend"] for r in rows],
            t("summary.col_mode"): [t(f"vlm_mode.{r['mode']}") if r["mode"] != "-" else "-" for r in rows],
            t("summary.col_verdict"): [verdict_label(r["verdict"], language) if r["verdict"] else "-" for r in rows],
            t("summary.col_confidence"): [report.format_percent(r["confidence"]) if r["confidence"] is not None else "-"
                                          for r in rows],
            t("summary.col_agreement"): [agree[r["agrees"]] for r in rows],
            t("summary.col_latency"): [f"{r['latency_ms']:.0f}" if r["latency_ms"] is not None else "-" for r in rows],
        }
    )
    disagree = [r["agrees"] is False for r in rows]
    styled = table.style.apply(lambda row: [DISAGREE_STYLE if disagree[row.name] else ""] * len(row), axis=1)
    st.dataframe(styled, hide_index=True, width="stretch", key=f"systems_{job.key}")
    if any(disagree):
        st.warning(t("summary.disagreement"), icon=":material/compare_arrows:")


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


def report_card(
    job: InspectionJob, inspection: dict[str, Any], pictures: dict[str, np.ndarray], downloadable: bool = True
) -> None:
    """The final report: bilingual verdict, confidence, each model's contribution, downloads.

    Args:
        job: The inspection shown.
        inspection: Its current snapshot.
        pictures: Its pictures with boxes (:func:`boxed_images`).
        downloadable: Enable the report downloads (off while the page is still redrawn live).
    """
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
        defect_panel(verdict)
        st.markdown(f"**{t('summary.contributions')}**")
        st.markdown("\n".join(f"- {line}" for line in contributions(job, inspection)))
    st.info(t("summary.engineer_note"), icon=":material/engineering:")
    downloads(job, inspection, pictures, enabled=downloadable)


def defect_panel(verdict: str) -> None:
    """What the operator reads about a verdict, from the one defect table (whichever VLM ran)."""
    info = defect_info(verdict, lang())
    st.markdown(f"**{t('summary.defect_info')}**")
    st.markdown(
        "\n".join(
            [
                f"- **{t('summary.description')}**: {plain(info['description'])}",
                f"- **{t('summary.severity')}**: :{info['colour']}-badge[{t('severity.' + info['severity'])}]",
                f"- **{t('summary.cause')}**: {plain(info['probable_cause'])}",
                f"- **{t('summary.action')}**: {plain(info['action'])}",
            ]
        )
    )


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
            lines.append(t("summary.vlm_contrib", backend=backend, summary=plain(summary)))
        else:
            lines.append(t("summary.vlg_contrib", backend=backend, n=len(section.get("boxes") or [])))
    return lines


def downloads(
    job: InspectionJob, inspection: dict[str, Any], pictures: dict[str, np.ndarray], enabled: bool = True
) -> None:
    """JSON, Markdown and PDF report downloads of this inspection in the page's language.

    Disabled (with a note) until ``enabled``: the report is only final once the VLM/VLG are done.
    """
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
            disabled=not enabled,
            key=f"dl_{ext}_{job.key}",
            icon=f":material/{icon}:",
        )
    if not enabled:
        st.caption(t("summary.downloads_wait"))
