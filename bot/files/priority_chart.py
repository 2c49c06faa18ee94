"""The priorities tally as a chart: per key crime area, partners who would lead or contribute (PNG).

Drawn as the RAG chart is (`bot.files.chart`): matplotlib's object API on the Agg canvas, no
pyplot; colour-blind-safe fills told apart by hatching, value labels and a legend too.
"""

import textwrap
from dataclasses import dataclass

from bot.files.chart import label_bars, new_figure, save_png
from handlers.priorities.tally import TallyChart

# Okabe and Ito's blue and sky blue, as in the RAG palette.
SERIES = (
    ("lead", "Would lead", "#0072B2", "//"),
    ("contribute", "Would contribute", "#56B4E9", ".."),
)


@dataclass(frozen=True)
class DrawnTally:
    """The PNG and the bar lengths read back from the drawing, per area and series."""

    png: bytes
    bars: dict[str, dict[str, int]]


def render_tally_png(chart: TallyChart) -> bytes:
    """The tally chart as PNG bytes."""
    return draw_tally(chart).png


def draw_tally(chart: TallyChart) -> DrawnTally:
    """Draw the tally; the bar lengths are read back from the drawn bars."""
    rows = list(reversed(chart.rows))  # the most supported area at the top
    height = 2.2 + 0.42 * max(len(rows), 1)
    figure = new_figure(height)
    axes = figure.subplots()
    figure.suptitle(f"{chart.title}, as at {chart.as_at_text}\n{chart.board}", fontsize=12)
    positions = range(len(rows))
    left = [0] * len(rows)
    drawn: dict[str, dict[str, int]] = {row.area: {} for row in rows}
    for name, label, colour, hatch in SERIES:
        values = [len(getattr(row, name)) for row in rows]
        container = axes.barh(
            positions,
            values,
            left=left,
            color=colour,
            hatch=hatch,
            edgecolor="black",
            linewidth=0.6,
            label=label,
        )
        for row, patch in zip(rows, container.patches, strict=True):
            drawn[row.area][name] = round(patch.get_width())
        label_bars(axes, container, values, fontsize=8, pad=0.15)
        left = [a + b for a, b in zip(left, values, strict=True)]
    for position, total in zip(positions, left, strict=True):
        axes.text(total + 0.05, position, f" {total}", va="center", fontsize=8, fontweight="bold")
    names = [
        textwrap.fill(("★ " if row.priority else "") + row.area, 34, break_long_words=False)
        for row in rows
    ]
    axes.set_yticks(list(positions), names, fontsize=8)
    axes.set_xlabel("Partners")
    axes.set_xlim(0, max(max(left, default=0), 1) + 1)
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.legend(loc="lower right", fontsize=8, ncols=2, bbox_to_anchor=(1, 1), frameon=False)
    if not rows:
        axes.text(0.5, 0.5, "No areas asked about", transform=axes.transAxes, ha="center")
    figure.supxlabel(
        f"{chart.answered} of {chart.asked} partners asked have answered. "
        "★ marks the Board's current priorities.",
        fontsize=8,
        x=0.01,
        ha="left",
    )
    return DrawnTally(save_png(figure, "Priorities tally", chart.board), drawn)
