"""Thin Teams listeners: typed commands, card controls and installations, run by the core.

A command runs as the person's Entra object id through the same `run_command` as Slack. In a
personal chat the reply goes there. In a channel or group chat only a reply meant for everyone
(`Audience.IN_CHANNEL`, e.g. the chair's `@soc rag`) is posted there; anything meant for the
asker alone goes to their personal chat, because Teams channels cannot show a message to one
person, and the channel gets a one-line note saying where the answer went.
"""

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import date
from http import HTTPStatus

from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationParameters,
    InvokeResponse,
)
from microsoft_agents.hosting.core import AgentApplication, TurnContext, TurnState
from microsoft_agents.hosting.core.app.adaptive_card import factory
from microsoft_agents.hosting.core.connector import ConnectorClientBase
from sqlmodel import Session

from bot.teams import ids
from bot.teams.cards import CONTENT_TYPE, SentCard, fallback_text, render_card
from bot.teams.connector import ConnectorError, with_retries
from bot.teams.files import (
    CONSENT_INVOKE,
    consent_activity,
    file_bytes,
    file_info_activity,
    image_activity,
    is_image,
    upload,
    upload_allowed,
)
from bot.teams.identities import remember_conversation
from bot.teams.runtime import TeamsRuntime
from bot.teams.text import normalise_command
from handlers.commands import is_read_only
from handlers.context import Context
from handlers.register import forms
from handlers.register.forms import Outcome, Target
from handlers.replies import Audience, Delivery, Reply, error_reply
from models.tables import Rag

log = logging.getLogger(__name__)

PERSONAL = "personal"
OUT_OF_DATE = error_reply(
    "That control is out of date, so nothing was changed.",
    "Type `@soc action status` for your actions with fresh controls.",
)
UNKNOWN_PERSON = error_reply(
    "Teams did not say who you are, so nothing was run.",
    "Write to the bot from your own Teams account.",
)
FAILED = "Sorry, something went wrong and your request may not have finished. Try again."
SENT_PRIVATELY = "I've sent you the answer in our personal chat."
NOT_SENT_PRIVATELY = (
    "I can only answer that in a personal chat, and could not open one with you: "
    "open the app's personal chat in Teams and ask there."
)
WELCOME = Reply(
    title="Hello: I keep the Board's action register.",
    text="Type `help` to see what you can ask, or `action status` for your actions.",
)
UseCase = Callable[[Session, Context], object]


def register(app: AgentApplication, runtime: TeamsRuntime) -> None:
    """Register every listener on `app`; the last one answers any invoke nothing else did."""

    @app.activity(ActivityTypes.message)
    async def on_message(context: TurnContext, state: TurnState) -> None:
        activity = context.activity
        personal = _is_personal(activity)
        object_id = _object_id(activity)
        if personal:
            await _remember(runtime, activity)
        if activity.value is not None and not (activity.text or "").strip():
            # An Action.Submit from an old or foreign card: this app's controls use Execute.
            return await _answer(context, OUT_OF_DATE, runtime)
        if not object_id:
            return await _answer(context, UNKNOWN_PERSON, runtime)
        text = normalise_command(activity.text) or "help"
        reply = await runtime.run_async(object_id, text)
        private = _PrivateChat(context, runtime)
        if personal or reply.audience == Audience.IN_CHANNEL:
            await _answer(context, reply, runtime, interactive=personal)
            here = _Here(context)
        elif await private.send(card_activity(reply, runtime)):
            # Meant for the asker alone: their personal chat, and a short pointer in the channel.
            await _say(context, SENT_PRIVATELY)
            here = private
        else:
            return await _say(context, NOT_SENT_PRIVATELY)
        await _send_files(reply, text, runtime, here, private if not personal else here)

    for verb, change in (
        (ids.VERB_RAG, _rag_change),
        (ids.VERB_DUE, _due_change),
        (ids.VERB_DONE, _done_change),
        (ids.VERB_NOTE, _note_change),
    ):
        _register_control(app, runtime, verb, change)

    @app.adaptive_card.action_execute(ids.VERB_PAGE)
    async def on_page(context: TurnContext, state: TurnState, data: dict) -> InvokeResponse:
        text = str((data or {}).get(ids.COMMAND_KEY) or "")
        object_id = _object_id(context.activity)
        if not text or not is_read_only(text) or not object_id:
            # Paging only ever re-runs a listing; a value that would change something is forged.
            return _card_response(OUT_OF_DATE, runtime)
        return _card_response(await runtime.run_async(object_id, text), runtime)

    async def on_file_consent(context: TurnContext, state: TurnState) -> None:
        value = context.activity.value if isinstance(context.activity.value, dict) else {}
        await _file_consent(context, runtime, value)
        await context.send_activity(
            Activity(
                type=ActivityTypes.invoke_response,
                value=InvokeResponse(status=HTTPStatus.OK, body={}),
            )  # fmt: skip
        )

    app.add_route(
        lambda context: (
            context.activity.type == ActivityTypes.invoke
            and context.activity.name == CONSENT_INVOKE
        ),
        on_file_consent,
        is_invoke=True,
    )

    @app.activity(ActivityTypes.installation_update)
    async def on_installation(context: TurnContext, state: TurnState) -> None:
        if _is_personal(context.activity) and context.activity.action in (None, "add"):
            await _remember(runtime, context.activity)

    @app.activity(ActivityTypes.conversation_update)
    async def on_conversation_update(context: TurnContext, state: TurnState) -> None:
        activity = context.activity
        bot_id = (activity.recipient.id if activity.recipient else "") or ""
        added = [m.id for m in activity.members_added or []]
        personal_install = _is_personal(activity) and bot_id in added
        if personal_install and await _remember(runtime, activity):
            await _answer(context, WELCOME, runtime)

    @app.activity(ActivityTypes.invoke)
    async def on_other_invoke(context: TurnContext, state: TurnState) -> None:
        # Teams answers a missing invoke response with an error on the person's screen (501).
        name = context.activity.name or ""
        if name == "adaptiveCard/action":
            response = _card_response(OUT_OF_DATE, runtime)
            body = response.model_dump(mode="json", by_alias=True, exclude_none=True)
        else:
            body = {}
        await context.send_activity(
            Activity(
                type=ActivityTypes.invoke_response,
                value=InvokeResponse(status=HTTPStatus.OK, body=body),
            )  # fmt: skip
        )

    @app.activity([ActivityTypes.message_update, ActivityTypes.message_delete,
                   ActivityTypes.message_reaction, ActivityTypes.typing,
                   ActivityTypes.end_of_conversation, ActivityTypes.event])  # fmt: skip
    async def on_ignored(context: TurnContext, state: TurnState) -> None:
        return None

    @app.error
    async def on_error(context: TurnContext, error: Exception) -> None:
        # The SDK's default would post the exception (with the connector URL) into the chat.
        log.error("Teams turn failed: %s", type(error).__name__, exc_info=error)
        if context.activity.type == ActivityTypes.message:
            try:
                await context.send_activity(_text_activity(FAILED))
            except Exception:  # noqa: BLE001  (nothing more can be told)
                log.warning("could not tell the person the turn failed")


def _register_control(
    app: AgentApplication,
    runtime: TeamsRuntime,
    verb: str,
    change: Callable[[Target, str], UseCase | None],
) -> None:
    @app.adaptive_card.action_execute(verb)
    async def on_control(context: TurnContext, state: TurnState, data: dict) -> InvokeResponse:
        data = data if isinstance(data, dict) else {}
        object_id = _object_id(context.activity)
        target = Target.parse(str(data.get(ids.TARGET_KEY) or ""))
        input_id = str(data.get(ids.INPUT_KEY) or "")
        kind = verb.rsplit(".", 1)[-1]
        use_case = None
        if target is not None and object_id and input_id.startswith(kind + "."):
            use_case = change(target, str(data.get(input_id) or ""))
        if use_case is None:
            return _card_response(OUT_OF_DATE, runtime)
        try:
            result = await runtime.use_async(object_id, use_case)
            reply = _reply_of(result)
            source = str(data.get(ids.SOURCE_KEY) or "")
            if not reply.error and source and is_read_only(source):
                # Redraw what was clicked, as it now is, with what happened on top.
                fresh = await runtime.run_async(object_id, source)
                if not fresh.error:
                    fresh.notice = reply.title
                    reply = fresh
        except Exception:  # noqa: BLE001  (the card must still be answered)
            log.exception("Teams card control failed")
            reply = error_reply(FAILED)
        return _card_response(reply, runtime)


async def _file_consent(context: TurnContext, runtime: TeamsRuntime, value: dict) -> None:
    """The person accepted (upload the file to the URL given) or declined a paper."""
    accepted = value.get("action") == "accept"
    chosen = value.get("context") if isinstance(value.get("context"), dict) else {}
    info = value.get("uploadInfo") if isinstance(value.get("uploadInfo"), dict) else {}
    if not accepted:
        return await _say(context, "All right: the file was not sent.")
    command, name = str(chosen.get("command") or ""), str(chosen.get("file") or "")
    url, object_id = str(info.get("uploadUrl") or ""), _object_id(context.activity)
    allow_http = not runtime.teams_check_service_url
    if not (command and is_read_only(command) and object_id
            and upload_allowed(url, allow_http=allow_http)):  # fmt: skip
        return await _say(context, "That file offer is out of date: ask for it again.")
    try:
        reply = await runtime.run_async(object_id, command)
        file = next((f for f in reply.files if f.filename == name), None)
        if file is None:
            message = reply.title if reply.error else "That file is no longer available."
            return await _say(context, message + " Ask for it again.")
        await upload(url, await file_bytes(file, runtime.settings.tz))
    except Exception:  # noqa: BLE001  (the person is told; the details go to the log)
        log.exception("uploading a file to Teams failed")
        return await _say(context, "Sorry, the file could not be uploaded. Ask for it again.")
    await with_retries(lambda: context.send_activity(file_info_activity(info)))


def _rag_change(target: Target, value: str) -> UseCase | None:
    if value not in {Rag.RED.value, Rag.AMBER.value, Rag.GREEN.value}:
        return None
    return lambda session, ctx: forms.set_rag(session, ctx, target, value)


def _due_change(target: Target, value: str) -> UseCase | None:
    try:
        due = date.fromisoformat(value)
    except ValueError:
        return None
    return lambda session, ctx: forms.set_due(session, ctx, target, due)


def _done_change(target: Target, value: str) -> UseCase | None:
    return lambda session, ctx: forms.complete(session, ctx, target, value)


def _note_change(target: Target, value: str) -> UseCase | None:
    return lambda session, ctx: forms.add_note(session, ctx, target, value)


def _reply_of(result: object) -> Reply:
    """A form's outcome as a reply: a refused field's message becomes the error shown."""
    if isinstance(result, Outcome):
        if result.errors and not result.reply.items:
            message = next(iter(result.errors.values()))
            return error_reply(message, "Nothing was changed.")
        return result.reply
    return result if isinstance(result, Reply) else error_reply(FAILED)


def _card_response(reply: Reply, runtime: TeamsRuntime) -> InvokeResponse:
    return factory.adaptive_card(render_card(reply, runtime.settings.tz))


def card_activity(reply: Reply, runtime: TeamsRuntime, *, interactive: bool = True) -> Activity:
    """A message carrying the reply as a card, with its plain-text fallback."""
    tz = runtime.settings.tz
    card = render_card(reply, tz, interactive=interactive)
    return Activity(
        type=ActivityTypes.message,
        text=fallback_text(reply, tz),
        text_format="plain",
        attachments=[Attachment(content_type=CONTENT_TYPE, content=SentCard(card))],
    )


async def _answer(
    context: TurnContext, reply: Reply, runtime: TeamsRuntime, *, interactive: bool = True
) -> None:
    activity = card_activity(reply, runtime, interactive=interactive)
    await with_retries(lambda: context.send_activity(activity))


async def _say(context: TurnContext, text: str) -> None:
    await with_retries(lambda: context.send_activity(_text_activity(text)))


def _text_activity(text: str) -> Activity:
    return Activity(type=ActivityTypes.message, text=text, text_format="plain")


class _Here:
    """Messages to the conversation the command came from."""

    def __init__(self, context: TurnContext) -> None:
        self.context = context

    async def send(self, activity: Activity) -> bool:
        await with_retries(lambda: self.context.send_activity(activity))
        return True


class _PrivateChat:
    """The asker's 1:1 chat with the bot, opened (or found) on first use."""

    def __init__(self, context: TurnContext, runtime: TeamsRuntime) -> None:
        self.context, self.runtime = context, runtime
        self.conversation: str | None = None

    async def send(self, message: Activity) -> bool:
        """Send `message` there; False if no personal chat could be opened or reached."""
        activity = self.context.activity
        connector = self.context.services.get(ConnectorClientBase)
        person = activity.from_property
        if connector is None or person is None or not person.id:
            return False
        try:
            if self.conversation is None:
                self.conversation = await self._open(connector, activity, person.id)
            conversation = self.conversation
            await with_retries(
                lambda: connector.conversations.send_to_conversation(conversation, message)
            )
        except ConnectorError as error:
            log.warning("could not reach a personal chat: %s", error)
            return False
        return True

    async def _open(self, connector: ConnectorClientBase, activity: Activity, person: str) -> str:
        tenant = _tenant(activity)
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=activity.recipient.id),
            members=[ChannelAccount(id=person)],
            tenant_id=tenant or None,
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )
        created = await with_retries(
            lambda: connector.conversations.create_conversation(parameters)
        )
        reference = {
            "channelId": activity.channel_id,
            "serviceUrl": activity.service_url,
            "bot": {"id": activity.recipient.id, "name": activity.recipient.name or ""},
            "user": {"id": person, "aadObjectId": _object_id(activity)},
            "conversation": {"id": created.id, "conversationType": PERSONAL, "tenantId": tenant},
        }
        await _store(self.runtime, _object_id(activity), reference)
        return created.id


async def _send_files(
    reply: Reply, command: str, runtime: TeamsRuntime, here: "_Here | _PrivateChat", private
) -> None:
    """Charts inline where the reply went; papers offered in the personal chat (file consent)."""
    for file in reply.files:
        try:
            data = await file_bytes(file, runtime.settings.tz)
            if is_image(file) and file.delivery == Delivery.CHANNEL:
                image = image_activity(file, data)
                await here.send(image or _text_activity(f"{file.title}: too large to show here."))
            else:
                await private.send(consent_activity(file, len(data), command))
        except Exception:  # noqa: BLE001  (the reply itself went out; say the file did not)
            log.exception("Teams file delivery failed")
            await here.send(_text_activity(f"Sorry, {file.title} could not be sent."))


async def _remember(runtime: TeamsRuntime, activity: Activity) -> bool:
    """Keep the person's personal-chat reference, for the worker's reminders."""
    reference = activity.get_conversation_reference().model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    reference.pop("activityId", None)
    object_id, now = _object_id(activity), runtime.clock()
    text = json.dumps(reference, sort_keys=True)
    if runtime.remembered_lately(object_id, text, now):
        return True
    stored = await _store(runtime, object_id, reference)
    if stored:
        runtime.remembered[object_id] = (text, now)
    return stored


async def _store(runtime: TeamsRuntime, object_id: str, reference: dict) -> bool:
    try:
        return await asyncio.to_thread(
            remember_conversation, runtime.engine, runtime.settings.board_slug,
            object_id=object_id, reference=reference, now=runtime.clock(),
        )  # fmt: skip
    except Exception:  # noqa: BLE001  (a missed reference only delays reminders to next time)
        log.warning("could not store a Teams conversation reference", exc_info=True)
        return False


def _object_id(activity: Activity) -> str:
    person = activity.from_property
    return (person.aad_object_id or "") if person else ""


def _is_personal(activity: Activity) -> bool:
    conversation = activity.conversation
    kind = (conversation.conversation_type or PERSONAL) if conversation else PERSONAL
    return kind == PERSONAL


def _tenant(activity: Activity) -> str:
    if activity.conversation and activity.conversation.tenant_id:
        return activity.conversation.tenant_id
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    return str((channel_data.get("tenant") or {}).get("id") or "")
