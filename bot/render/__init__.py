"""Renderers: one reply object drawn as Block Kit for Slack or as plain text elsewhere."""
