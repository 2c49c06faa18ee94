"""The words people type: command parsing, dates, vocabularies, quarters and working days."""
