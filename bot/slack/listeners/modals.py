"""Forms: the action form (add, edit), Mark complete and Add note, opened and submitted.

A form is opened first, with a "Loading…" view if it needs the database, because the trigger
expires in 3 seconds. On submission the same handler as the typed command runs: mistakes come
back under their fields (`response_action: errors`) and the form stays open with what was typed;
a refusal replaces the form with the explanation; a saved change closes it and redraws the
message it came from and the person's Home tab.
"""

from collections.abc import Callable

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.slack.ids import VIEW_ACTION_FORM, VIEW_COMPLETE, VIEW_NOTE
from bot.slack.listeners import interactions
from bot.slack.listeners.interactions import Origin
from bot.slack.listeners.runtime import Runtime
from bot.slack.render.modals import (
    action_form_view,
    complete_view,
    field_errors,
    form_values,
    loading_view,
    message_view,
    note_view,
)
from handlers.register import forms
from handlers.register.forms import Outcome, Target
from handlers.replies import Reply

SAVING = Reply(title="Saving…", text="This can take a moment; the result will appear here.")


def register(app: App, runtime: Runtime) -> None:
    """Listen for form submissions."""

    tz = runtime.settings.tz

    def one_box(field: str, save: Callable, reopen_view: Callable) -> Callable:
        """A listener for a one-box form: saved as the command would; reopened with the text."""

        def submitted(
            ack: Ack, body: dict, view: dict, client: WebClient, runtime: Runtime
        ) -> None:
            text = str(form_values(view).get(field) or "")
            _submit(runtime, client, ack, body, lambda session, ctx, target: save(
                session, ctx, target, text), reopen=lambda target, metadata, notice: reopen_view(
                target.ref, metadata, text, notice, tz))  # fmt: skip

        return submitted

    app.view(VIEW_COMPLETE)(one_box("outcome", forms.complete, complete_view))
    app.view(VIEW_NOTE)(one_box("note", forms.add_note, note_view))

    @app.view(VIEW_ACTION_FORM)
    def action_form_submitted(
        ack: Ack, body: dict, view: dict, client: WebClient, runtime: Runtime
    ) -> None:
        values = form_values(view)
        _submit(runtime, client, ack, body, lambda session, ctx, target: forms.save_action_form(
            session, ctx, values, target), new_allowed=True)  # fmt: skip


def open_action_form(
    runtime: Runtime,
    client: WebClient,
    user_id: str,
    trigger_id: str,
    target: Target | None,
    origin: Origin,
) -> None:
    """Open the add form (no target) or the edit form: "Loading…" at once, then the form."""
    title = "New action" if target is None else f"Edit {target.ref}"
    opened = client.views_open(trigger_id=trigger_id, view=loading_view(title))
    view_id = opened["view"]["id"]

    def fill() -> None:
        form = interactions.use(runtime, user_id,
                                lambda session, ctx: forms.action_form(session, ctx, target),
                                read_only=True)  # fmt: skip
        if isinstance(form, Reply):
            view = message_view(form, runtime.settings.tz, title)
        else:
            view = action_form_view(form, interactions.form_metadata(form.target, origin))
        client.views_update(view_id=view_id, view=view)

    runtime.within_budget(fill, origin.response_url or None)


def _submit(
    runtime: Runtime,
    client: WebClient,
    ack: Ack,
    body: dict,
    use_case: Callable,
    *,
    new_allowed: bool = False,
    reopen: Callable[[Target, str, Reply], dict] | None = None,
) -> None:
    """Save a form within Slack's 3 seconds: errors, a refusal, or closed and redrawn.

    `use_case(session, ctx, target)` saves it; the target (the action and the version the form
    was drawn at; None for a new action where `new_allowed`) comes from the form's metadata. If
    the action changed meanwhile, `reopen(target, metadata, notice)` draws the form again at the
    current version, saying who changed it, with what was typed still in it.
    """
    user_id, view = body["user"]["id"], body.get("view") or {}
    try:
        target, origin = interactions.read_metadata(view.get("private_metadata", ""))
    except ValueError:
        target, origin = None, None
    if origin is None or (target is None and not new_allowed):
        ack(response_action="update", view=message_view(_EXPIRED, runtime.settings.tz))
        return

    def work() -> Outcome:
        result = interactions.use(
            runtime, user_id, lambda session, ctx: use_case(session, ctx, target)
        )
        outcome = result if isinstance(result, Outcome) else Outcome(result)
        if not outcome.errors:
            interactions.redraw(runtime, client, user_id, origin, outcome.reply, explain=False)
        return outcome

    def late(outcome: Outcome) -> None:
        client.views_update(view_id=view.get("id", ""), view=_result_view(runtime, outcome))

    outcome = runtime.within_budget(work, origin.response_url or None, late=late)
    if outcome is None:
        ack(response_action="update", view=message_view(SAVING, runtime.settings.tz))
    elif outcome.errors:
        ack(**field_errors(outcome.errors))
    elif outcome.moved_on and reopen is not None:
        metadata = interactions.form_metadata(outcome.moved_on, origin)
        ack(response_action="update", view=reopen(outcome.moved_on, metadata, outcome.reply))
    elif outcome.reply.error:
        ack(response_action="update", view=_result_view(runtime, outcome))
    else:
        ack()


_EXPIRED = Reply(
    title="This form is out of date, so nothing was saved.",
    error=True,
    hint="Open it again from the action's Edit… button or `/soc action edit A-n`.",
)


def _result_view(runtime: Runtime, outcome: Outcome) -> dict:
    reply = outcome.reply
    if outcome.errors:
        reply = Reply(title="Not saved: " + "; ".join(outcome.errors.values()), error=True)
    return message_view(reply, runtime.settings.tz, "Not saved" if reply.error else "Saved")
