"""RAG ratings as coloured marks, shared by the channels that can show emoji."""

from models.tables import Rag

RAG_DISPLAY = {
    Rag.RED: "🔴 Red",
    Rag.AMBER: "🟠 Amber",
    Rag.GREEN: "🟢 Green",
    Rag.BLUE: "🔵 Blue",
    Rag.NONE: "⚪ Not rated",
}
RAG_LEGEND = "🔴 Red · 🟠 Amber · 🟢 Green · 🔵 Blue = complete · ⚪ Not rated"
