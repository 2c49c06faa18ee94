"""Microsoft Teams: the same commands and controls as Slack, over the Microsoft 365 Agents SDK."""
