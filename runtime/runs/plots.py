"""Figures of a run: the loss history and each field over its domain, written as PNG files.

Matplotlib runs on the Agg backend, so plotting works without a display (on servers, in tests);
every figure is closed once saved, so long runs do not accumulate open figures.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen before this import)
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

from ..model import Params, Problem  # noqa: E402
from .extent import field_extent, on_host  # noqa: E402

PointFunction = Callable[[np.ndarray], np.ndarray]
"""Values at points: (N, dim) float array -> (N,) array."""

_GRID = 200      # points per axis of a 2-D image
_LINE = 400      # points along a 1-D plot or a slice
_SLICES = 5      # times shown in a space-time slice plot
# How a run's status (metrics.json) reads in a figure's heading.
_STATUS = {"ok": "finished"}


def heading(subject: str, status: str | None = None, rel_l2: float | None = None) -> str:
    """A figure's heading: ``subject``, the relative L2 error against the exact solution where
    there is one, and the run's status, e.g. ``u (relative L2 error 3.1e-04, finished)``."""
    parts = [] if rel_l2 is None else [f"relative L2 error {rel_l2:.2e}"]
    if status is not None:
        parts.append(_STATUS.get(status, status))
    return f"{subject} ({', '.join(parts)})" if parts else subject


def plot_run(directory: Path, problem: Problem, params: Params,
             history: dict[str, list[float]], metrics: dict | None = None) -> list[Path]:
    """A run's figures: the loss history and, for 1-D and 2-D fields (and lets of fields that
    an `exact` names), the field (and its error); each headed by the run's status and a
    field's relative L2 error, where ``metrics`` (as metrics.json) holds them."""
    metrics = metrics or {}
    status, errors = metrics.get("status"), metrics.get("fields", {})
    if status == "ok" and metrics.get("stopped"):  # ended early, e.g. at the time_limit option
        status = f"stopped at {metrics['stopped']}"
    written = [plot_history(Path(directory) / "loss.png", history,
                            heading(f"{problem.name}: loss and its terms", status))]
    for f in problem.ir.quantities:
        extent = field_extent(problem, f.name)
        exact = problem.exact(f.name)
        written += plot_field(Path(directory), f.name, extent.coords, extent.lows, extent.highs,
                              on_host(problem.field(f.name, params), problem),
                              on_host(exact, problem) if exact else None, extent.contains,
                              heading(f.name, status, errors.get(f.name, {}).get("rel_l2")))
    return written


def plot_history(path: Path, history: dict[str, list[float]], title: str | None = None) -> Path:
    """Plot ``history["loss"]`` and every term's series against ``history["step"]``, each
    curve labelled with its term's label; log y. ``title`` heads the figure.

    A log axis cannot show zero or negative values, and a ``minimize`` term may take them: such
    a series is drawn as its absolute value (its label says so) and its zeros are left out.
    """
    steps = np.asarray(history["step"], dtype=float)
    labels = ["loss"] + [key for key in history if key not in ("step", "loss")]
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for label in labels:
        values = np.asarray(history[label], dtype=float)[: len(steps)]
        shown = f"|{label}|" if np.any(values < 0) else label
        magnitude = np.abs(values)
        magnitude[magnitude == 0] = np.nan
        axes.plot(steps[: len(values)], magnitude, label=shown,
                  linewidth=2.0 if label == "loss" else 1.2)
    axes.set_yscale("log")
    axes.set_xlabel("step")
    axes.set_ylabel("value")
    axes.set_title(title or "Training loss and its terms")
    axes.legend(fontsize="small")
    axes.grid(True, which="major", alpha=0.3)
    return _save(figure, path)


def plot_field(folder: Path, name: str, coords: tuple[str, ...], lows, highs,
               predict: PointFunction, exact: PointFunction | None = None,
               contains: Callable[[np.ndarray], np.ndarray] | None = None,
               title: str | None = None) -> list[Path]:
    """Plot field ``name`` over the box ``lows``..``highs`` (each (dim,)); return the files,
    each headed by ``title`` (`heading`) where given.

    1-D: ``field_<name>.png``, the prediction (with ``exact`` dashed, and an error panel).
    2-D: ``field_<name>.png``, an image of the prediction (panels prediction | exact | error
    with ``exact``), blank where ``contains`` is False; with a coordinate named ``t`` it is the
    horizontal axis, and ``slices_<name>.png`` shows the field against the other coordinate at
    five times. Higher dimensions are not plotted: the list is empty.
    """
    lows, highs = np.asarray(lows, dtype=float), np.asarray(highs, dtype=float)
    if len(coords) == 1:
        paths = [_plot_line(folder / f"field_{name}.png", name, coords[0], lows[0], highs[0],
                            predict, exact)]
    elif len(coords) == 2:
        paths = [_plot_image(folder / f"field_{name}.png", name, coords, lows, highs, predict,
                             exact, contains)]
        if "t" in coords:
            paths.append(_plot_slices(folder / f"slices_{name}.png", name, coords, lows, highs,
                                      predict, exact, contains))
    else:
        return []
    return [_save(figure, path, title) for figure, path in paths]


def _values(function: PointFunction, points: np.ndarray) -> np.ndarray:
    """``function`` at ``points`` as a flat (N,) float array, whatever shape it returns."""
    return np.asarray(function(points), dtype=float).reshape(len(points))


def _plot_line(path: Path, name: str, coord: str, low: float, high: float,
               predict: PointFunction, exact: PointFunction | None) -> tuple[plt.Figure, Path]:
    points = np.linspace(low, high, _LINE)[:, None]
    predicted = _values(predict, points)
    columns = 1 if exact is None else 2
    figure, axes = plt.subplots(1, columns, figsize=(5.5 * columns, 4), squeeze=False)
    axes = axes[0]
    axes[0].plot(points[:, 0], predicted, label="prediction")
    if exact is not None:
        expected = _values(exact, points)
        axes[0].plot(points[:, 0], expected, "--", label="exact")
        axes[1].semilogy(points[:, 0], np.abs(predicted - expected))
        axes[1].set(xlabel=coord, ylabel="|error|", title=f"{name}: absolute error")
        axes[0].legend()
    axes[0].set(xlabel=coord, ylabel=name, title=name)
    return figure, path


def _plot_image(path: Path, name: str, coords: tuple[str, ...], lows: np.ndarray,
                highs: np.ndarray, predict: PointFunction, exact: PointFunction | None,
                contains: Callable[[np.ndarray], np.ndarray] | None) -> tuple[plt.Figure, Path]:
    horizontal, vertical = _axes_order(coords)
    ticks = [np.linspace(lows[i], highs[i], _GRID) for i in range(2)]
    mesh = np.meshgrid(ticks[horizontal], ticks[vertical])  # each (GRID, GRID), rows = vertical
    points = np.empty((_GRID * _GRID, 2))
    points[:, horizontal], points[:, vertical] = mesh[0].ravel(), mesh[1].ravel()
    outside = np.zeros(len(points), bool) if contains is None else ~np.asarray(contains(points))

    def image(values: np.ndarray) -> np.ma.MaskedArray:
        return np.ma.masked_array(values, outside).reshape(_GRID, _GRID)

    panels = [("prediction", image(_values(predict, points)), None)]
    if exact is not None:
        expected = image(_values(exact, points))
        error = np.abs(panels[0][1] - expected)
        panels += [("exact", expected, None), ("absolute error", error, _error_norm(error))]
    figure, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.2), squeeze=False)
    for axis, (title, values, norm) in zip(axes[0], panels):
        mesh_plot = axis.pcolormesh(mesh[0], mesh[1], values, shading="auto", norm=norm,
                                    cmap="magma" if norm is not None else "viridis")
        figure.colorbar(mesh_plot, ax=axis)
        axis.set(xlabel=coords[horizontal], ylabel=coords[vertical], title=f"{name}: {title}")
    return figure, path


def _plot_slices(path: Path, name: str, coords: tuple[str, ...], lows: np.ndarray,
                 highs: np.ndarray, predict: PointFunction, exact: PointFunction | None,
                 contains: Callable[[np.ndarray], np.ndarray] | None) -> tuple[plt.Figure, Path]:
    time, space = coords.index("t"), 1 - coords.index("t")
    figure, axes = plt.subplots(figsize=(7, 4.5))
    colours = plt.cm.viridis(np.linspace(0, 0.9, _SLICES))
    for moment, colour in zip(np.linspace(lows[time], highs[time], _SLICES), colours):
        points = np.empty((_LINE, 2))
        points[:, space] = np.linspace(lows[space], highs[space], _LINE)
        points[:, time] = moment
        keep = np.ones(_LINE, bool) if contains is None else np.asarray(contains(points))
        axes.plot(points[keep, space], _values(predict, points)[keep], color=colour,
                  label=f"t = {moment:.3g}")
        if exact is not None:
            axes.plot(points[keep, space], _values(exact, points)[keep], "--", color=colour)
    axes.set(xlabel=coords[space], ylabel=name,
             title=f"{name} at five times" + (" (exact dashed)" if exact is not None else ""))
    axes.legend(fontsize="small")
    return figure, path


def _axes_order(coords: tuple[str, ...]) -> tuple[int, int]:
    """(horizontal, vertical) coordinate indices: time runs left to right when there is one."""
    return (1, 0) if coords[1] == "t" else (0, 1)


def _error_norm(error: np.ma.MaskedArray) -> LogNorm | None:
    # A log scale shows errors across orders of magnitude; it needs a positive range, so an
    # exactly zero error (a prediction equal to the exact field) falls back to a linear scale.
    positive = error.compressed()[error.compressed() > 0]
    if positive.size == 0:
        return None
    return LogNorm(vmin=max(positive.min(), positive.max() * 1e-8), vmax=positive.max())


def _save(figure: plt.Figure, path: Path, title: str | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
