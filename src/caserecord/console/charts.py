"""A goal's progress as a small SVG line chart, drawn on the server: measured values when
every entry has a number, else the achievement on an ordered scale."""

from dataclasses import dataclass
from typing import Any

from caserecord.console.web import as_datetime

WIDTH, HEIGHT = 480, 160
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 32

# From worst to best, the scale achievements are drawn on.
ACHIEVEMENT_SCALE = (
    "worsening",
    "not-achieved",
    "no-change",
    "in-progress",
    "improving",
    "achieved",
)


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    points: list[Point]
    path: str
    y_labels: list[tuple[float, str]]
    x_labels: list[tuple[float, str, str]]  # x, text, text-anchor
    measure: str
    description: str


def number(value: Any) -> float | None:
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def progress_chart(progress: list[dict[str, Any]], measure: str) -> Chart | None:
    """``progress``: the goal's entries (any order); None when there is nothing to draw."""
    items = sorted(progress, key=lambda p: as_datetime(p["effective_at"]) or 0)
    if not items:
        return None
    numbers = [number(p.get("measured_value")) for p in items]
    numeric = all(n is not None for n in numbers)
    if numeric:
        values = [n or 0.0 for n in numbers]
        low, high = min(0.0, *values), max(values)
        ticks = [(low, f"{low:g}"), (high, f"{high:g}")]
    else:
        values = [float(scale_of(p.get("achievement"))) for p in items]
        low, high = 0.0, float(len(ACHIEVEMENT_SCALE) - 1)
        ticks = [(float(i), name) for i, name in enumerate(ACHIEVEMENT_SCALE)]
    span = (high - low) or 1.0
    times = [as_datetime(p["effective_at"]) for p in items]
    first, last = times[0], times[-1]
    assert first is not None and last is not None
    duration = (last - first).total_seconds() or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(i: int) -> float:
        moment = times[i]
        assert moment is not None
        offset = (moment - first).total_seconds() / duration if len(items) > 1 else 0.5
        return round(LEFT + offset * plot_w, 1)

    def y_of(value: float) -> float:
        return round(TOP + plot_h - (value - low) / span * plot_h, 1)

    points = [
        Point(x_of(i), y_of(v), label(p, measure))
        for i, (p, v) in enumerate(zip(items, values, strict=True))
    ]
    path = " ".join(f"{'M' if i == 0 else 'L'}{p.x},{p.y}" for i, p in enumerate(points))
    x_labels = [(points[0].x, first.strftime("%Y-%m-%d"), "start")]
    if len(points) > 1:
        x_labels.append((points[-1].x, last.strftime("%Y-%m-%d"), "end"))
    shown_as = measure or "value" if numeric else "achievement"
    description = f"{len(items)} progress entries of {shown_as}: " + "; ".join(
        p.label for p in points
    )
    return Chart(
        WIDTH,
        HEIGHT,
        points,
        path,
        [(y_of(v), text) for v, text in ticks],
        x_labels,
        shown_as,
        description,
    )


def scale_of(achievement: Any) -> int:
    name = str(achievement or "in-progress")
    return ACHIEVEMENT_SCALE.index(name) if name in ACHIEVEMENT_SCALE else 3


def label(progress: dict[str, Any], measure: str) -> str:
    moment = as_datetime(progress["effective_at"])
    day = moment.strftime("%Y-%m-%d") if moment else ""
    value = progress.get("measured_value") or ""
    unit = f" {measure}" if value and measure else ""
    return f"{day}: {value}{unit} ({progress.get('achievement') or 'no rating'})".replace(
        ":  (", ": ("
    )
