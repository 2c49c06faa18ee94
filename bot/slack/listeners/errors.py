"""The one error handler: log the failure and tell the user, in words and only them."""

from slack_bolt import App, BoltResponse

from bot.slack.listeners.respond import failure_text, report_failure


def register(app: App) -> None:
    """Install the app-wide error handler."""

    @app.error
    def on_error(
        error: Exception, body: dict, response: BoltResponse | None
    ) -> BoltResponse | None:
        body = body if isinstance(body, dict) else {}
        if response is not None and body.get("command"):
            # The slash command is not acknowledged yet: the explanation is the acknowledgement.
            report_failure(error, None)
            return BoltResponse(status=200, body={"response_type": "ephemeral",
                                                  "text": failure_text(error)})  # fmt: skip
        report_failure(error, body.get("response_url"))
        # 200 even so: a 5xx makes Slack resend events and show "dispatch_failed" to the user.
        return BoltResponse(status=200, body="") if response is not None else None
