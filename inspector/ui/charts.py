"""Plotly figures of the app: probabilities, score vs threshold, timings, confusion matrix, ROC.

Plain functions from data to ``go.Figure`` (no Streamlit), so they are testable on their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from inspector.report import format_percent

_LAYOUT = {"margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "height": 320}


def probability_bars(
    probabilities: Mapping[str, float], title: str, highlight: str | None = None
) -> go.Figure:
    """Horizontal bars of class probabilities; ``highlight`` (the predicted class) in red."""
    names = list(probabilities)
    values = [float(probabilities[n]) for n in names]
    colors = ["#d62728" if n == highlight else "#1f77b4" for n in names]
    fig = go.Figure(
        go.Bar(x=values, y=names, orientation="h", marker_color=colors, text=[format_percent(v) for v in values])
    )
    fig.update_layout(title=title, xaxis={"range": [0, 1], "tickformat": ".0%"}, **_LAYOUT)
    fig.update_yaxes(autorange="reversed")
    return fig


def score_gauge(score: float, threshold: float, title: str) -> go.Figure:
    """A bullet gauge of the anomaly score with the threshold marked."""
    top = max(score, threshold) * 1.6 or 1.0
    fig = go.Figure(
        go.Indicator(
            mode="number+gauge+delta",
            value=score,
            delta={
                "reference": threshold,
                "increasing": {"color": "#d62728"},
                "decreasing": {"color": "#2ca02c"},
            },
            number={"valueformat": ".4g"},
            gauge={
                "shape": "bullet",
                "axis": {"range": [0, top]},
                "threshold": {"line": {"color": "black", "width": 3}, "value": threshold},
                "bar": {"color": "#d62728" if score >= threshold else "#2ca02c"},
            },
        )
    )
    fig.update_layout(title=title, margin={"l": 20, "r": 20, "t": 50, "b": 10}, height=160)
    return fig


def timing_bars(timings_ms: Mapping[str, float], title: str) -> go.Figure:
    """Horizontal bars of per-model inference time in milliseconds."""
    names = list(timings_ms)
    values = [float(timings_ms[n]) for n in names]
    fig = go.Figure(go.Bar(x=values, y=names, orientation="h", text=[f"{v:.0f} ms" for v in values]))
    fig.update_layout(title=title, xaxis_title="ms", **_LAYOUT)
    fig.update_yaxes(autorange="reversed")
    return fig


def confusion_heatmap(
    matrix: Sequence[Sequence[float]],
    labels: Sequence[str],
    title: str,
    x_title: str = "Predicted",
    y_title: str = "Actual",
) -> go.Figure:
    """A confusion matrix (rows = actual, columns = predicted) with counts written in the cells."""
    labels = list(labels) or [str(i) for i in range(len(matrix))]
    fig = go.Figure(
        go.Heatmap(
            z=[list(row) for row in matrix],
            x=labels,
            y=labels,
            colorscale="Blues",
            text=[[f"{v:g}" for v in row] for row in matrix],
            texttemplate="%{text}",
            showscale=False,
        )
    )
    fig.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title, **(_LAYOUT | {"height": 380}))
    fig.update_yaxes(autorange="reversed")
    return fig


def roc_curve(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    title: str,
    x_title: str = "False positive rate",
    y_title: str = "True positive rate",
) -> go.Figure:
    """ROC curves ``{name: (fpr, tpr)}`` with the chance diagonal."""
    fig = go.Figure()
    for name, (fpr, tpr) in curves.items():
        fig.add_trace(go.Scatter(x=list(fpr), y=list(tpr), mode="lines", name=name))
    fig.add_trace(
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dash", "color": "gray"}, showlegend=False)
    )
    fig.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title, **(_LAYOUT | {"height": 380}))
    return fig


def kappa_heatmap(matrix: Sequence[Sequence[float | None]], names: Sequence[str], title: str) -> go.Figure:
    """Pairwise agreement (Cohen's kappa, -1..1) of systems as a heat map with values in the cells."""
    fig = go.Figure(
        go.Heatmap(
            z=[list(row) for row in matrix],
            x=list(names),
            y=list(names),
            zmin=-1,
            zmax=1,
            colorscale="RdBu",
            text=[["-" if v is None else f"{v:.2f}" for v in row] for row in matrix],
            texttemplate="%{text}",
        )
    )
    fig.update_layout(title=title, **(_LAYOUT | {"height": 420}))
    fig.update_yaxes(autorange="reversed")
    return fig


def reliability_diagram(
    series: Mapping[str, Sequence[Mapping[str, float]]],
    title: str,
    x_title: str = "Verdict confidence",
    y_title: str = "Fraction correct",
) -> go.Figure:
    """Reliability diagram: per series, each non-empty bin's mean confidence vs. its accuracy."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dash", "color": "gray"}, showlegend=False)
    )
    for name, bins in series.items():
        rows = [b for b in bins if b.get("n")]
        fig.add_trace(
            go.Scatter(
                x=[b["confidence"] for b in rows],
                y=[b["accuracy"] for b in rows],
                mode="lines+markers",
                name=name,
                text=[f"n={b['n']}" for b in rows],
            )
        )
    fig.update_layout(
        title=title, xaxis_title=x_title, yaxis_title=y_title,
        xaxis_range=[0, 1], yaxis_range=[0, 1.02], **(_LAYOUT | {"height": 380}),
    )  # fmt: skip
    return fig


def score_histogram(
    edges: Sequence[float],
    counts: Mapping[str, Sequence[float]],
    threshold: float | None,
    title: str,
    x_title: str = "Anomaly score",
    y_title: str = "Photos",
    threshold_label: str = "threshold",
) -> go.Figure:
    """Overlaid histograms ``{name: counts per bin}`` on shared bin ``edges``, the threshold as a line.

    Empty series are left out (e.g. no defect photos), so one call serves both cases.
    """
    edges = [float(e) for e in edges]
    centres = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
    widths = [b - a for a, b in zip(edges[:-1], edges[1:])]
    fig = go.Figure()
    for (name, values), colour in zip(counts.items(), ("#1f77b4", "#d62728", "#2ca02c")):
        if values is not None and len(values) == len(centres):
            fig.add_trace(go.Bar(x=centres, y=list(values), width=widths, name=name, marker_color=colour, opacity=0.6))
    if threshold is not None:
        fig.add_vline(
            x=float(threshold), line={"color": "black", "dash": "dash", "width": 2}, annotation_text=threshold_label
        )
    fig.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title, barmode="overlay", **_LAYOUT)
    return fig
