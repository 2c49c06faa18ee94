"""Meetings and reminders: the calendar rule, who is reminded of what, and what was sent."""
