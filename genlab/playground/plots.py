"""Plotly figures for the GAN playground (no streamlit): the training history, densities, the drawing grid.

The live plane itself is a picture drawn by `toy_canvas` (cheaper for the browser several times a second).
Figures are built from plain dicts. Colours: real points black, generated orange, as on the plane.
"""
from __future__ import annotations

import plotly.graph_objects as go
import torch

from genlab.playground.data import PLANE

REAL, FAKE = "#111111", "#ff7f0e"
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"]  # curves: D loss blue, G loss orange, ...
AXIS = {"range": [-PLANE, PLANE], "zeroline": False, "showgrid": False, "fixedrange": True, "constrain": "domain"}


def _plane_layout(height: int, title: str | None = None) -> dict:
    return {"height": height, "margin": {"l": 10, "r": 10, "t": 30 if title else 10, "b": 10},
            "title": {"text": title} if title else None, "uirevision": "plane",
            "xaxis": AXIS, "yaxis": {**AXIS, "scaleanchor": "x", "scaleratio": 1},
            "legend": {"orientation": "h", "y": -0.02, "yanchor": "top"}}


def _points(points: torch.Tensor, name: str, color: str, size: int = 4) -> dict:
    return {"type": "scattergl" if len(points) > 1000 else "scatter", "mode": "markers", "name": name,
            "x": points[:, 0].tolist(), "y": points[:, 1].tolist(), "marker": {"size": size, "color": color},
            "hoverinfo": "skip"}


def history_figure(histories: dict[str, list[dict]], panels: list[tuple[str, str]], height: int = 240,
                   max_points: int = 300) -> go.Figure:
    """Training curves over steps, one panel per (field, title), stacked; one line per run and quantity.

    The field "losses" draws D's and G's loss; any other field (e.g. "modes", "distance") draws that entry.
    """
    traces, layout = [], {"height": height * len(panels), "margin": {"l": 10, "r": 10, "t": 25, "b": 10},
                          "uirevision": "history", "legend": {"orientation": "h", "y": 1.0, "yanchor": "bottom"}}
    gap = 0.12 if len(panels) > 1 else 0
    size = (1 - gap * (len(panels) - 1)) / len(panels)
    for index, (field, title) in enumerate(panels):
        suffix = str(index + 1) if index else ""
        top = 1 - index * (size + gap)
        layout[f"xaxis{suffix}"] = {"anchor": f"y{suffix}", "title": {"text": "step"} if index == len(panels) - 1
                                    else None}
        layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}", "title": {"text": title},
                                    "domain": [max(0.0, round(top - size, 4)), round(top, 4)]}
        quantities = ["d_loss", "g_loss"] if field == "losses" else [field]
        colours = iter(PALETTE)
        for run, history in histories.items():
            shown = history[::max(1, len(history) // max_points)]
            for quantity in quantities:
                label = {"d_loss": "D loss", "g_loss": "G loss"}.get(quantity, title)
                traces.append({"type": "scatter", "mode": "lines", "name": f"{run}: {label}" if run else label,
                               "x": [h["step"] for h in shown], "y": [h.get(quantity) for h in shown],
                               "xaxis": f"x{suffix}", "yaxis": f"y{suffix}", "line": {"color": next(colours)},
                               "showlegend": field == "losses" or len(histories) > 1})
    return go.Figure({"data": traces, "layout": layout}, skip_invalid=True)


def density_figure(ticks: torch.Tensor, density: torch.Tensor, real: torch.Tensor, height: int = 420,
                   title: str | None = None) -> go.Figure:
    """An explicit model's density p(x) over the plane (R, R), with a few real points on top."""
    traces = [{"type": "heatmap", "x": ticks.tolist(), "y": ticks.tolist(), "z": density.tolist(),
               "colorscale": "Viridis", "name": "p(x)", "colorbar": {"title": {"text": "p(x)"}, "thickness": 12},
               "hovertemplate": "p(x) = %{z:.3f}<extra></extra>"},
              _points(real, "real", "rgba(255, 255, 255, 0.7)", 3)]
    return go.Figure({"data": traces, "layout": _plane_layout(height, title)}, skip_invalid=True)


def samples_figure(real: torch.Tensor, fake: torch.Tensor, height: int = 420, title: str | None = None):
    """Real and generated points on the plane, nothing else."""
    traces = [_points(real, "real", REAL, 3), _points(fake, "generated", FAKE, 4)]
    return go.Figure({"data": traces, "layout": _plane_layout(height, title)}, skip_invalid=True)


DRAW_STEP = 0.2  # spacing of the clickable grid in "draw your own"


def drawing_grid() -> torch.Tensor:
    """The clickable points of the drawing canvas, (G, 2), every DRAW_STEP over the plane."""
    ticks = torch.arange(-PLANE, PLANE + 1e-6, DRAW_STEP)  # (T,)
    return torch.cartesian_prod(ticks, ticks).round(decimals=1)  # (T*T, 2)


def drawing_figure(drawn: list[tuple[float, float]], height: int = 480) -> go.Figure:
    """Faint grid points to click (trace 0) and the points drawn so far (trace 1: click one to remove it)."""
    grid = drawing_grid()
    drawn_xy = torch.tensor(drawn, dtype=torch.float32).reshape(-1, 2)
    traces = [{"type": "scatter", "mode": "markers", "name": "click to add", "x": grid[:, 0].tolist(),
               "y": grid[:, 1].tolist(), "marker": {"size": 7, "color": "rgba(120, 120, 120, 0.18)"},
               "hovertemplate": "(%{x:.1f}, %{y:.1f})<extra></extra>"},
              {"type": "scatter", "mode": "markers", "name": "your data (click to remove)",
               "x": drawn_xy[:, 0].tolist(), "y": drawn_xy[:, 1].tolist(),
               "marker": {"size": 11, "color": REAL}, "hovertemplate": "(%{x:.1f}, %{y:.1f})<extra></extra>"}]
    # No dragmode: Streamlit then lets a click select a point; its box tool (in the mode bar) selects an area.
    return go.Figure({"data": traces, "layout": _plane_layout(height)}, skip_invalid=True)
