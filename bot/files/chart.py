"""The RAG chart: a stacked bar per key crime area and a trend over the last meetings (PNG).

Drawn with matplotlib's object API on the headless Agg canvas: no pyplot, no display and no
global figure state, so it is safe in a web worker's threads.
"""

import io
import textwrap
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.files.palette import FILL, HATCH
from handlers.register.summary import RAG_ORDER
from handlers.reports.snapshot import ChartData
from handlers.text.vocab import RAG_LABELS

WIDTH_INCHES, DPI = 10.0, 100
LABELS = {**RAG_LABELS, "blue": "Blue (complete)"}


@dataclass(frozen=True)
class DrawnChart:
    """The PNG and the numbers actually drawn: per area and rating, and per trend point."""

    png: bytes
    bars: dict[str, dict[str, int]]
    trend: list[tuple[str, dict[str, int]]]
    width: int
    height: int


def new_figure(height: float) -> Figure:
    """A blank figure of the reports' width and resolution, on its own Agg canvas."""
    figure = Figure(figsize=(WIDTH_INCHES, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def label_bars(axes, container, values: list[int], fontsize: int, pad: float) -> None:
    """Write each non-zero value in the middle of its bar, on a white box."""
    axes.bar_label(
        container,
        labels=[str(v) if v else "" for v in values],
        label_type="center",
        fontsize=fontsize,
        bbox={
            "boxstyle": f"round,pad={pad}",
            "facecolor": "white",
            "edgecolor": "none",
            "alpha": 0.85,
        },
    )


def save_png(figure: Figure, title: str, author: str) -> bytes:
    """The figure as PNG bytes, titled and authored, without matplotlib's Software tag."""
    buffer = io.BytesIO()
    figure.savefig(
        buffer,
        format="png",
        dpi=DPI,
        metadata={"Title": title, "Author": author, "Software": None},
    )
    return buffer.getvalue()


def render_png(chart: ChartData) -> bytes:
    """The chart as PNG bytes."""
    return draw_chart(chart).png


def draw_chart(chart: ChartData) -> DrawnChart:
    """Draw the chart; the bar heights are read back from the drawn bars."""
    areas = list(reversed(chart.areas)) or []  # the first area at the top
    height = 2.6 + 0.42 * max(len(areas), 1) + 2.4
    figure = new_figure(height)
    bars_axes, trend_axes = figure.subplots(
        2, 1, height_ratios=[0.42 * max(len(areas), 1) + 1.2, 2.4]
    )
    figure.suptitle(
        f"RAG ratings by key crime area, as at {chart.as_at_text}\n{chart.board}", fontsize=12
    )
    drawn = _draw_bars(bars_axes, areas)
    trend = _draw_trend(trend_axes, chart)
    if footnote := _footnote(chart):
        figure.supxlabel(textwrap.fill(footnote, 150), fontsize=8, x=0.01, ha="left")
    png = save_png(figure, "RAG chart", chart.board)
    width, height_px = (round(v) for v in figure.get_size_inches() * DPI)
    return DrawnChart(png, drawn, trend, width, height_px)


def _draw_bars(axes, areas) -> dict[str, dict[str, int]]:
    names = [_wrap(group.name) for group in areas]
    positions = range(len(areas))
    left = [0] * len(areas)
    drawn: dict[str, dict[str, int]] = {group.name: {} for group in areas}
    for rag in RAG_ORDER:
        values = [group.counts.get(rag, 0) for group in areas]
        container = axes.barh(
            positions,
            values,
            left=left,
            color="#" + FILL[rag],
            hatch=HATCH[rag],
            edgecolor="black",
            linewidth=0.6,
            label=LABELS[rag],
        )
        # Read back what was drawn, so the data returned is the figure's, not our intention.
        for group, patch in zip(areas, container.patches, strict=True):
            drawn[group.name][rag.value] = round(patch.get_width())
        label_bars(axes, container, values, fontsize=8, pad=0.15)
        left = [a + b for a, b in zip(left, values, strict=True)]
    for position, total in zip(positions, left, strict=True):
        axes.text(total + 0.1, position, f" {total}", va="center", fontsize=8, fontweight="bold")
    axes.set_yticks(list(positions), names, fontsize=8)
    axes.set_xlabel("Actions")
    axes.set_xlim(0, max(left, default=0) + 1.5)
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.legend(loc="lower right", fontsize=8, ncols=5, bbox_to_anchor=(1, 1), frameon=False)
    if not areas:
        axes.text(0.5, 0.5, "No actions to show", transform=axes.transAxes, ha="center")
    return drawn


def _draw_trend(axes, chart: ChartData) -> list[tuple[str, dict[str, int]]]:
    # Stacked like the bars above (same fills and hatches), so one legend serves both panels.
    labels = [point.label for point in chart.trend]
    positions = range(len(labels))
    bottom = [0] * len(labels)
    for rag in RAG_ORDER:
        values = [point.counts.get(rag, 0) for point in chart.trend]
        container = axes.bar(
            positions,
            values,
            bottom=bottom,
            width=0.6,
            color="#" + FILL[rag],
            hatch=HATCH[rag],
            edgecolor="black",
            linewidth=0.6,
        )
        label_bars(axes, container, values, fontsize=7, pad=0.1)
        bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    axes.set_xticks(list(positions), labels, fontsize=8)
    axes.set_ylabel("Actions")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_ylim(0, max(bottom, default=0) * 1.1 + 0.5)
    meetings = len(chart.trend) - 1
    axes.set_title(
        f"At the last {meetings} meeting{'s' if meetings != 1 else ''}, and at the report's date"
        if meetings
        else "No earlier meeting recorded: the report's date only",
        fontsize=9,
    )
    return [(point.label, dict(point.counts)) for point in chart.trend]


def _footnote(chart: ChartData) -> str:
    notes = []
    if chart.withheld:
        notes.append(
            f"{chart.withheld} confidential action{'s' if chart.withheld != 1 else ''} not shown."
        )
    if chart.empty_areas:
        notes.append("No actions yet: " + "; ".join(chart.empty_areas) + ".")
    return " ".join(notes)


def _wrap(name: str, width: int = 34) -> str:
    words, lines, line = name.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])
