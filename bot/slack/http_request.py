"""Slack's HTTP requests as bolt requests, the body classified by its form, not by its words.

Bolt's parser (`slack_bolt.request.internals.parse_body`) takes a form-encoded body for an
interactivity payload whenever the word "payload" appears anywhere in it, so a slash command
whose text contained that word reached no listener (404 "unhandled request", which Slack shows
as "dispatch_failed"). Here a form body is an interactivity payload only when the form has a
`payload` field, and a body is JSON when its content type says so; whatever a person types sits
inside a form value, encoded, and can change neither.
"""

import json
from typing import Any
from urllib.parse import parse_qsl

from flask import Request
from slack_bolt import BoltRequest
from slack_bolt.context import BoltContext
from slack_bolt.request.internals import build_context

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
PAYLOAD_FIELD = "payload"


def parse_slack_body(body: str, content_type: str | None) -> Any:
    """A request body as bolt's listeners expect it: JSON, an interactivity payload or a form."""
    if not body:
        return {}
    # Other content types keep bolt's rule (JSON if it looks like JSON); a form never does.
    if content_type == JSON or (content_type != FORM and body.startswith("{")):
        return json.loads(body)
    form = dict(parse_qsl(body, keep_blank_values=True))
    if PAYLOAD_FIELD in form:
        return json.loads(form[PAYLOAD_FIELD])
    return form


class SlackHttpRequest(BoltRequest):
    """A bolt request over HTTP whose body (and every copy's) is read by `parse_slack_body`."""

    def __init__(
        self,
        *,
        body: str,
        query: Any = None,
        headers: Any = None,
        context: dict | None = None,
        mode: str = "http",
    ) -> None:
        # Bolt parses the body in its constructor: give it none, then set the body parsed here.
        super().__init__(body="", query=query, headers=headers, context=context, mode=mode)
        self.raw_body = body
        self.body = parse_slack_body(body, self.content_type)
        self.context = build_context(BoltContext(context or {}), self.body)

    def to_copyable(self) -> "SlackHttpRequest":
        """A copy for work after the response (bolt's own would parse the body its way)."""
        return SlackHttpRequest(body=self.raw_body, query=self.query, headers=self.headers,
                                context=self.context.to_copyable(), mode=self.mode)  # fmt: skip


def from_flask(request: Request) -> SlackHttpRequest:
    """The bolt request for a Flask request, as bolt's Flask adapter builds it."""
    return SlackHttpRequest(
        body=request.get_data(as_text=True),
        query=request.query_string.decode("utf-8"),
        headers=request.headers,
    )
