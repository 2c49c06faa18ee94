"""Slack: the app factory, servers, thin listeners, Block Kit renderers and the Slack courier."""
