"""Slack listeners: thin functions that build the context, run a command, render and reply."""
