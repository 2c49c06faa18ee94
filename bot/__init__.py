"""How soc-bot talks and runs: settings, Slack app, renderers, console, CLI, worker."""
