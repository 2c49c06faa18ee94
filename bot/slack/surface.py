"""What Slack can draw, as handlers see it: `/soc`, ephemeral replies, modals, buttons, files."""

from handlers.context import Surface

SLACK = Surface(name="slack", prefix="/soc", ephemeral=True, forms=True, buttons=True, files=True)
