"""`python -m bot` is the `soc-bot` command."""

from bot.cli import main

raise SystemExit(main())
