"""The Board's own settings: its name, time zone, holidays, reminder times, summary channels."""
