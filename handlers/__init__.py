"""What the bot does, whatever the channel: the `/soc` command language over the register."""
