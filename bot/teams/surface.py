"""What Teams can draw, as handlers see it: `@soc`, cards with inputs, no ephemeral messages."""

from handlers.context import Surface

# Teams channels cannot show a message to one person: such replies go to their personal chat.
TEAMS = Surface(
    name="teams",
    identity_channel="teams",
    prefix="@soc",
    ephemeral=False,
    forms=True,
    buttons=True,
    files=True,
)
