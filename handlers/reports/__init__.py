"""The Board's papers: the register at a moment, the papers as data, and the report commands."""
