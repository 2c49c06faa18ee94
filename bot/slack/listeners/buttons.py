"""Reply controls: paging, and the RAG select, due-date picker, Mark complete, Add note, Edit….

The RAG select and the date picker change the action at once (one or two clicks); the buttons
open a form, at once (a trigger_id lasts 3 seconds), and only then check that the clicker may
still change the action. Every change runs the same handler, with the same checks, as the typed
command, and carries the version the control was drawn at, so a stale or repeated click is
refused and explained instead of applied twice.
"""

from datetime import date

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.slack.ids import (
    FORM_ACTION_IDS,
    OPERATION_DONE,
    OPERATION_DUE,
    OPERATION_NOTE,
    OPERATION_RAG,
    PAGE_ACTION_IDS,
    parse_actions_block_id,
)
from bot.slack.listeners import interactions
from bot.slack.listeners.interactions import Origin, form_metadata
from bot.slack.listeners.modals import open_action_form
from bot.slack.listeners.respond import post
from bot.slack.listeners.runtime import Runtime
from bot.slack.render.modals import complete_view, message_view, note_view
from handlers.commands import is_read_only
from handlers.register import forms
from handlers.register.forms import Target
from handlers.replies import error_reply
from models.tables import Rag

OUT_OF_DATE = error_reply(
    "That button is out of date, so nothing was changed.",
    "Type `/soc action status` for your actions with fresh buttons.",
)


def register(app: App, runtime: Runtime) -> None:
    """Listen for paging and item controls."""

    @app.action(PAGE_ACTION_IDS)
    def turn_page(ack: Ack, body: dict, client: WebClient, action: dict, runtime: Runtime) -> None:
        ack()
        user_id, text = body["user"]["id"], action.get("value") or ""
        if not is_read_only(text):
            # Paging only ever re-runs a listing; a value that would change something is forged.
            return _out_of_date(runtime, client, body)
        runtime.answer_later(
            lambda: runtime.message(user_id, text, replace_original=True), body.get("response_url")
        )

    @app.action(OPERATION_RAG)
    def choose_rag(ack: Ack, body: dict, action: dict, client: WebClient, runtime: Runtime) -> None:
        ack()
        value = (action.get("selected_option") or {}).get("value") or ""
        target_text, _, rag = value.rpartition("|")
        target = Target.parse(target_text)
        if target is None or rag not in {r.value for r in Rag}:
            return _out_of_date(runtime, client, body)
        if rag == Rag.BLUE:
            # Closing needs the outcome: the same form as Mark complete.
            return _open_small_form(runtime, client, body, action, OPERATION_DONE, target)
        _change(runtime, client, body, action, target,
                lambda session, ctx: forms.set_rag(session, ctx, target, rag))  # fmt: skip

    @app.action(OPERATION_DUE)
    def choose_due(ack: Ack, body: dict, action: dict, client: WebClient, runtime: Runtime) -> None:
        ack()
        target_text, _, _ = parse_actions_block_id(action.get("block_id") or "") or ("", 0, "")
        target = Target.parse(target_text)
        try:
            due = date.fromisoformat(action.get("selected_date") or "")
        except ValueError:
            target = None
        if target is None:
            return _out_of_date(runtime, client, body)
        _change(runtime, client, body, action, target,
                lambda session, ctx: forms.set_due(session, ctx, target, due))  # fmt: skip

    @app.action(FORM_ACTION_IDS)
    def open_form(ack: Ack, body: dict, action: dict, client: WebClient, runtime: Runtime) -> None:
        ack()
        target = Target.parse(action.get("value") or "")
        if target is None:
            return _out_of_date(runtime, client, body)
        if action["action_id"] in (OPERATION_DONE, OPERATION_NOTE):
            return _open_small_form(runtime, client, body, action, action["action_id"], target)
        origin = Origin.of_click(body, action.get("block_id") or "", target.ref)
        open_action_form(runtime, client, body["user"]["id"], body["trigger_id"], target, origin)


def _change(
    runtime: Runtime,
    client: WebClient,
    body: dict,
    action: dict,
    target: Target,
    use_case: interactions.UseCase,
) -> None:
    """Apply a one-click change, then redraw what it came from."""
    user_id = body["user"]["id"]
    origin = Origin.of_click(body, action.get("block_id") or "", target.ref)

    def work() -> None:
        result = interactions.use(runtime, user_id, use_case)
        interactions.redraw(runtime, client, user_id, origin, result, body.get("message"))

    runtime.within_budget(work, body.get("response_url"))


def _open_small_form(
    runtime: Runtime, client: WebClient, body: dict, action: dict, kind: str, target: Target
) -> None:
    """Open Mark complete or Add note at once, then check the click: refused, the form says why;
    drawn before someone else changed the action, it starts again at the current version."""
    user_id, tz = body["user"]["id"], runtime.settings.tz
    origin = Origin.of_click(body, action.get("block_id") or "", target.ref)
    form = complete_view if kind == OPERATION_DONE else note_view
    opened = client.views_open(
        trigger_id=body["trigger_id"], view=form(target.ref, form_metadata(target, origin))
    )

    def check() -> None:
        refused = interactions.use(runtime, user_id, lambda session, ctx: forms.check_writable(
            session, ctx, target, closing=kind == OPERATION_DONE), read_only=True)  # fmt: skip
        if refused is None:
            return
        reply = getattr(refused, "reply", refused)  # the runner's own failures are replies
        moved_on = getattr(refused, "moved_on", None)
        if moved_on:
            view = form(moved_on.ref, form_metadata(moved_on, origin), "", reply, tz)
        else:
            view = message_view(reply, tz, "Not possible")
        client.views_update(view_id=opened["view"]["id"], view=view)
        # What was clicked is out of date: draw it afresh.
        interactions.redraw(runtime, client, user_id, origin, reply, body.get("message"),
                            explain=False)  # fmt: skip

    runtime.within_budget(check, body.get("response_url"))


def _out_of_date(runtime: Runtime, client: WebClient, body: dict) -> None:
    """A control whose value is not ours (tampered, or from a much older version of the app)."""
    user_id = body["user"]["id"]
    on_home = (body.get("container") or {}).get("type") == "view"

    def explain() -> None:
        if on_home:
            interactions.publish_home(runtime, client, user_id, notice=OUT_OF_DATE)
        else:
            message = runtime.render(OUT_OF_DATE, response_type="ephemeral", replace_original=False)
            post(body.get("response_url"), message)

    runtime.within_budget(explain, None)
