"""RAG colours shared by the chart and the documents: colour-blind-safe, never colour alone.

The hues are Okabe and Ito's colour-blind-safe set; every rating is also written in words, and
the chart adds a hatch pattern and a marker per rating.
"""

from models.tables import Rag

FILL = {
    Rag.RED: "D55E00",
    Rag.AMBER: "E69F00",
    Rag.GREEN: "009E73",
    Rag.BLUE: "0072B2",
    Rag.NONE: "D9D9D9",
}
# Text on each fill, chosen for contrast (WCAG AA at least).
INK = {
    Rag.RED: "FFFFFF",
    Rag.AMBER: "000000",
    Rag.GREEN: "000000",
    Rag.BLUE: "FFFFFF",
    Rag.NONE: "000000",
}
HATCH = {Rag.RED: "xx", Rag.AMBER: "//", Rag.GREEN: "..", Rag.BLUE: "\\\\", Rag.NONE: ""}
MARKER = {Rag.RED: "X", Rag.AMBER: "^", Rag.GREEN: "o", Rag.BLUE: "s", Rag.NONE: "D"}
EMOJI = {Rag.RED: "🔴", Rag.AMBER: "🟠", Rag.GREEN: "🟢", Rag.BLUE: "🔵", Rag.NONE: "⚪"}


def as_rag(value: object) -> Rag | None:
    """The rating a cell holds, or None for any other text (e.g. a `Total` row)."""
    try:
        return Rag(str(value))
    except ValueError:
        return None
