"""The one exception handlers raise for anything the user should be told."""


class CommandError(Exception):
    """A user-facing refusal: `message` says what is wrong, `hint` what to do instead."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
