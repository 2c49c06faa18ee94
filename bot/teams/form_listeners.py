"""The Edit… and Answer forms in Teams: opened and submitted through `Action.Execute`.

A click on Edit… (an item's control, or the button of `action edit A-3`) or Answer (on a
priorities invitation) answers with the form as a card, drawn in place of the message. Its Save
runs the handlers' own form use cases (`handlers.register.forms`, `handlers.priorities.forms`),
exactly as Slack's modals do: a refused value comes back under its field with what was typed
kept; a form drawn before someone else changed the action saves nothing and says who changed
it, showing the action as it now is; a saved change redraws what the form was opened from.
"""

import logging
from collections.abc import Callable, Mapping

from microsoft_agents.activity import InvokeResponse
from microsoft_agents.hosting.core import AgentApplication, TurnContext, TurnState
from microsoft_agents.hosting.core.app.adaptive_card import factory

from bot.teams import ids
from bot.teams.forms import action_form_card, answer_form_card, submitted_answer, submitted_values
from bot.teams.listeners import (
    FAILED,
    OUT_OF_DATE,
    after_change,
    card_response,
    object_id_of,
    turn_runtime,
)
from bot.teams.runtime import TeamsRuntime
from handlers.commands import is_read_only
from handlers.priorities.forms import AnswerForm, answer_form, parse_answer_target, submit_answer
from handlers.priorities.messages import STANCE_LABELS
from handlers.register import forms
from handlers.register.forms import ActionForm, Outcome, Target
from handlers.replies import Reply, error_reply

log = logging.getLogger(__name__)
STANCES = {stance.value for stance in STANCE_LABELS}


def register(app: AgentApplication, shared: TeamsRuntime) -> None:
    """Register the form verbs: open and save the action form, open and send an answer."""

    def verb(name: str, run: Callable) -> None:
        @app.adaptive_card.action_execute(name)
        async def on_form(context: TurnContext, state: TurnState, data: dict) -> InvokeResponse:
            runtime = turn_runtime(context, shared)
            data = data if isinstance(data, dict) else {}
            person = object_id_of(context.activity)
            if not person:
                return card_response(OUT_OF_DATE, runtime)
            try:
                return await run(runtime, person, data)
            except Exception:  # noqa: BLE001  (the card must still be answered)
                log.exception("Teams form failed")
                return card_response(error_reply(FAILED), runtime)

    verb(ids.VERB_EDIT, _open_action_form)
    verb(ids.VERB_SAVE, _save_action_form)
    verb(ids.VERB_ANSWER, _open_answer_form)
    verb(ids.VERB_SEND_ANSWER, _send_answer)


async def _open_action_form(runtime: TeamsRuntime, person: str, data: dict) -> InvokeResponse:
    target = Target.parse(str(data.get(ids.TARGET_KEY) or ""))
    if target is None:
        return card_response(OUT_OF_DATE, runtime)
    form = await _action_form(runtime, person, target)
    if isinstance(form, Reply):
        return card_response(form, runtime)
    return factory.adaptive_card(action_form_card(form, _source(data, target)))


async def _save_action_form(runtime: TeamsRuntime, person: str, data: dict) -> InvokeResponse:
    target = Target.parse(str(data.get(ids.TARGET_KEY) or ""))
    if target is None or target.version is None:
        # Every edit form carries the version it was drawn at; without one it is not ours.
        return card_response(OUT_OF_DATE, runtime)
    source = _source(data, target)
    values, errors = submitted_values(data)
    if not errors:
        result = await runtime.use_async(
            person, lambda session, ctx: forms.save_action_form(session, ctx, values, target)
        )
        if not isinstance(result, Outcome):
            return card_response(result if isinstance(result, Reply) else OUT_OF_DATE, runtime)
        if not result.errors:
            # Saved, or refused as a whole (changed meanwhile: the action as it now is).
            reply = await after_change(runtime, person, result.reply, source)
            return card_response(reply, runtime)
        errors = result.errors
    form = await _action_form(runtime, person, target)
    if isinstance(form, Reply):
        return card_response(form, runtime)
    return factory.adaptive_card(action_form_card(form, source, values=values, errors=errors))


async def _open_answer_form(runtime: TeamsRuntime, person: str, data: dict) -> InvokeResponse:
    target = parse_answer_target(str(data.get(ids.TARGET_KEY) or ""))
    if target is None:
        return card_response(OUT_OF_DATE, runtime)
    form = await _answer_form(runtime, person, target)
    if isinstance(form, Reply):
        return card_response(form, runtime)
    return factory.adaptive_card(answer_form_card(form, _answer_source(data)))


async def _send_answer(runtime: TeamsRuntime, person: str, data: dict) -> InvokeResponse:
    target = parse_answer_target(str(data.get(ids.TARGET_KEY) or ""))
    if target is None:
        return card_response(OUT_OF_DATE, runtime)
    stances, note = submitted_answer(data)
    reply = await runtime.use_async(
        person, lambda session, ctx: submit_answer(session, ctx, *target, stances, note)
    )
    if not isinstance(reply, Reply):
        return card_response(OUT_OF_DATE, runtime)
    if reply.error:
        # Still answerable (e.g. nothing was chosen): the form again, with what was typed.
        form = await _answer_form(runtime, person, target)
        if isinstance(form, AnswerForm):
            kept = {area: stance for area, stance in stances.items() if stance in STANCES}
            notice = " ".join(part for part in (reply.title, reply.hint) if part)
            card = answer_form_card(form, _answer_source(data), stances=kept, note=note,
                                    notice=notice)  # fmt: skip
            return factory.adaptive_card(card)
    return card_response(reply, runtime)


async def _action_form(runtime: TeamsRuntime, person: str, target: Target) -> ActionForm | Reply:
    form = await runtime.use_async(
        person, lambda session, ctx: forms.action_form(session, ctx, target), read_only=True
    )
    return form if isinstance(form, ActionForm | Reply) else OUT_OF_DATE


async def _answer_form(
    runtime: TeamsRuntime, person: str, target: tuple[int, int]
) -> AnswerForm | Reply:
    form = await runtime.use_async(
        person, lambda session, ctx: answer_form(session, ctx, *target), read_only=True
    )
    return form if isinstance(form, AnswerForm | Reply) else OUT_OF_DATE


def _source(data: Mapping[str, object], target: Target) -> str:
    """What the form redraws on Cancel or after saving: a listing, else the action itself."""
    source = str(data.get(ids.SOURCE_KEY) or "")
    return source if source and is_read_only(source) else f"action status {target.ref}"


def _answer_source(data: Mapping[str, object]) -> str:
    source = str(data.get(ids.SOURCE_KEY) or "")
    return source if source and is_read_only(source) else "priorities"
