"""The priorities exercise's Answer button and answer form.

The button opens the form at once ("Loading…", as a trigger expires in 3 seconds), then fills it
with the partner's current answer, or replaces it with the reason it cannot be answered (closed,
replaced by a newer exercise, not the clicker's partner). On submission the answer is recorded by
the same handler checks as `/soc priorities answer`, and the form shows what was saved.
"""

from collections.abc import Callable

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.slack.ids import ANSWER_BUTTON
from bot.slack.listeners.runtime import Runtime
from bot.slack.render.priorities import (
    ANSWER_VIEW,
    answer_form_view,
    reply_view,
    submitted_answer,
)
from bot.slack.surface import SLACK
from handlers.priorities.forms import AnswerForm, answer_form, parse_answer_target, submit_answer
from handlers.replies import Reply, error_reply
from handlers.run import run_use_case

LOADING = Reply(title="Loading…")
SAVING = Reply(title="Saving…", text="This can take a moment; the result will appear here.")
OUT_OF_DATE = error_reply(
    "That button or form is out of date, so nothing was saved.",
    "Type `/soc priorities` to see the exercise, and answer with `/soc priorities answer ...`.",
)


def register(app: App, runtime: Runtime) -> None:
    """Listen for the Answer button and the answer form."""

    @app.action(ANSWER_BUTTON)
    def open_answer_form(
        ack: Ack, body: dict, action: dict, client: WebClient, runtime: Runtime
    ) -> None:
        ack()
        tz = runtime.settings.tz
        opened = client.views_open(trigger_id=body["trigger_id"], view=reply_view(LOADING, tz))
        view_id = opened["view"]["id"]
        user_id, target = body["user"]["id"], parse_answer_target(action.get("value") or "")

        def fill() -> None:
            form = (
                OUT_OF_DATE
                if target is None
                else _use(
                    runtime,
                    user_id,
                    lambda session, ctx: answer_form(session, ctx, *target),
                    read_only=True,
                )
            )
            view = (
                answer_form_view(form)
                if isinstance(form, AnswerForm)
                else reply_view(form, tz, "Not possible")
            )
            client.views_update(view_id=view_id, view=view)

        runtime.within_budget(fill, body.get("response_url"))

    @app.view(ANSWER_VIEW)
    def answer_submitted(
        ack: Ack, body: dict, view: dict, client: WebClient, runtime: Runtime
    ) -> None:
        tz = runtime.settings.tz
        user_id, view_id = body["user"]["id"], view.get("id", "")
        target = parse_answer_target(view.get("private_metadata") or "")
        stances, note = submitted_answer(view)

        def save() -> Reply:
            if target is None:
                return OUT_OF_DATE
            return _use(
                runtime,
                user_id,
                lambda session, ctx: submit_answer(session, ctx, *target, stances, note),
            )

        def shown(reply: Reply) -> dict:
            return reply_view(reply, tz, "Not saved" if reply.error else "Answer saved")

        reply = runtime.within_budget(
            save, None, late=lambda late: client.views_update(view_id=view_id, view=shown(late))
        )
        ack(
            response_action="update",
            view=shown(reply) if reply is not None else reply_view(SAVING, tz),
        )


def _use(
    runtime: Runtime, user_id: str, use_case: Callable, *, read_only: bool = False
) -> AnswerForm | Reply:
    """Run a use case for a Slack user in one transaction, as typed commands run."""
    return run_use_case(
        engine=runtime.engine,
        board_slug=runtime.board_slug,
        user_id=user_id,
        now=runtime.clock(),
        use_case=use_case,
        read_only=read_only,
        surface=SLACK,
    )
