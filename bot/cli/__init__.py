"""The command line: `soc-bot` subcommands, the console and the demo."""
