"""Thin Teams listeners: typed commands, card controls and installations, run by the core.

A command runs as the person's Entra object id through the same `run_command` as Slack. In a
personal chat the reply goes there. In a channel or group chat only a reply meant for everyone
(`Audience.IN_CHANNEL`, e.g. the chair's `@soc rag`) is posted there; anything meant for the
asker alone goes to their personal chat, because Teams channels cannot show a message to one
person, and the channel gets a one-line note saying where the answer went. A reply for the
Board's summary channels (`@soc rag post`) starts a new conversation in each Teams channel named,
and the asker is told privately where it went.
"""

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from datetime import date
from http import HTTPStatus
from zoneinfo import ZoneInfo

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
from bot.teams.boards import Where, where_of
from bot.teams.cards import CONTENT_TYPE, SentCard, fallback_text, render_card
from bot.teams.charts import ChartLinks, current_version
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
from handlers.boards.settings import channels_on
from handlers.commands import is_read_only
from handlers.context import Context
from handlers.register import forms
from handlers.register.forms import Outcome, Target
from handlers.replies import Audience, Delivery, Reply, ReplyFile, error_reply
from handlers.reports.snapshot import ChartData
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
SEVERAL_BOARDS = error_reply(
    "You are on more than one Board in this organisation, so a personal chat cannot tell which "
    "one you mean: nothing was done.",
    "Ask in your Board's team channel instead (`@soc ...`).",
)
WRONG_APP = error_reply(
    "This request did not come through your organisation's own soc-bot app, so nothing was done."
)
# Where a turn's Board-scoped runtime is kept (`TurnContext.turn_state`).
TURN_RUNTIME = "soc.board_runtime"
UseCase = Callable[[Session, Context], object]


def register(app: AgentApplication, shared: TeamsRuntime, charts: ChartLinks | None = None) -> None:
    """Register every listener on `app`; the last one answers any invoke nothing else did.

    Each listener runs against the turn's own Board (`scope_to_board`, before any of them).
    """

    @app.before_turn
    async def scope_to_board(context: TurnContext, state: TurnState) -> bool:
        return await _scope_to_board(context, shared)

    @app.activity(ActivityTypes.message)
    async def on_message(context: TurnContext, state: TurnState) -> None:
        activity, runtime = context.activity, turn_runtime(context, shared)
        personal = _is_personal(activity)
        object_id = object_id_of(activity)
        if personal:
            await _remember(runtime, activity)
        if activity.value is not None and not (activity.text or "").strip():
            # An Action.Submit from an old or foreign card: this app's controls use Execute.
            return await _answer(context, OUT_OF_DATE, runtime)
        if not object_id:
            return await _answer(context, UNKNOWN_PERSON, runtime)
        text = normalise_command(activity.text) or "help"
        reply = await runtime.run_async(object_id, text)
        if reply.post_to and not reply.error:
            return await _post_to_channels(context, reply, runtime)
        images = await _chart_links(reply, runtime, charts)
        private = _PrivateChat(context, runtime)
        if personal or reply.audience == Audience.IN_CHANNEL:
            await _answer(context, reply, runtime, interactive=personal, images=images)
            here = _Here(context)
        elif await private.send(card_activity(reply, runtime, images=images)):
            # Meant for the asker alone: their personal chat, and a short pointer in the channel.
            await _say(context, SENT_PRIVATELY)
            here = private
        else:
            return await _say(context, NOT_SENT_PRIVATELY)
        linked = [f for f in reply.files if f.filename not in images]
        zone = reply.tz or runtime.settings.tz
        await _send_files(linked, text, zone, here, private if not personal else here)

    for verb, change in (
        (ids.VERB_RAG, _rag_change),
        (ids.VERB_DUE, _due_change),
        (ids.VERB_DONE, _done_change),
        (ids.VERB_NOTE, _note_change),
    ):
        _register_control(app, shared, verb, change)

    @app.adaptive_card.action_execute(ids.VERB_PAGE)
    async def on_page(context: TurnContext, state: TurnState, data: dict) -> InvokeResponse:
        runtime = turn_runtime(context, shared)
        text = str((data or {}).get(ids.COMMAND_KEY) or "")
        object_id = object_id_of(context.activity)
        if not text or not is_read_only(text) or not object_id:
            # Paging only ever re-runs a listing; a value that would change something is forged.
            return card_response(OUT_OF_DATE, runtime)
        return card_response(await runtime.run_async(object_id, text), runtime)

    async def on_file_consent(context: TurnContext, state: TurnState) -> None:
        value = context.activity.value if isinstance(context.activity.value, dict) else {}
        await _file_consent(context, turn_runtime(context, shared), value)
        await _answer_invoke(context, {})

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
            await _remember(turn_runtime(context, shared), context.activity)

    @app.activity(ActivityTypes.conversation_update)
    async def on_conversation_update(context: TurnContext, state: TurnState) -> None:
        activity = context.activity
        bot_id = (activity.recipient.id if activity.recipient else "") or ""
        added = [m.id for m in activity.members_added or []]
        personal_install = _is_personal(activity) and bot_id in added
        runtime = turn_runtime(context, shared)
        if personal_install and await _remember(runtime, activity):
            await _answer(context, WELCOME, runtime)

    @app.activity(ActivityTypes.invoke)
    async def on_other_invoke(context: TurnContext, state: TurnState) -> None:
        # Teams answers a missing invoke response with an error on the person's screen (501).
        name = context.activity.name or ""
        if name == "adaptiveCard/action":
            response = card_response(OUT_OF_DATE, shared)
            body = response.model_dump(mode="json", by_alias=True, exclude_none=True)
        else:
            body = {}
        await _answer_invoke(context, body)

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


async def _scope_to_board(context: TurnContext, shared: TeamsRuntime) -> bool:
    """Run the turn against its Board: False (nothing runs) if it has none, or came through
    another tenant's app; the person is told which, where a reply cannot cross tenants."""
    where = where_of(context.activity)
    claims = context.identity.claims if context.identity else {}
    if not shared.boards.credentials_match(claims or {}, where):
        # Answering through the connector would use another tenant's app: only an invoke's own
        # HTTP answer says so.
        log.warning("refused a Teams activity from tenant %s: its token is for another app",
                    where.tenant)  # fmt: skip
        await _refuse(context, shared, WRONG_APP, tell=False)
        return False
    found = await asyncio.to_thread(shared.boards.board_of, where)
    if found.slug is None:
        await _refuse(context, shared, SEVERAL_BOARDS if found.several else no_board(where))
        return False
    context.turn_state[TURN_RUNTIME] = shared.for_board(found.slug)
    return True


def turn_runtime(context: TurnContext, shared: TeamsRuntime) -> TeamsRuntime:
    """The runtime scoped to this turn's Board (an unscoped one finds no Board at all)."""
    scoped = context.turn_state.get(TURN_RUNTIME)
    return scoped if isinstance(scoped, TeamsRuntime) else shared


def no_board(where: Where) -> Reply:
    """What someone in an unbound (or unbound since) tenant or team is told."""
    place = "This team" if where.team else "Your organisation's Teams tenant"
    return error_reply(f"{place} has no Board here, so nothing was done.",
                       f"Ask the operator to run `{where.bind_command()}`.")  # fmt: skip


async def _refuse(
    context: TurnContext, runtime: TeamsRuntime, reply: Reply, *, tell: bool = True
) -> None:
    """Answer a turn that runs nothing: a message is told (if `tell`), an invoke always is."""
    activity = context.activity
    if activity.type == ActivityTypes.message and tell:
        await _answer(context, reply, runtime, interactive=False)
    elif activity.type == ActivityTypes.invoke:
        body = {}
        if activity.name == "adaptiveCard/action":
            response = card_response(reply, runtime)
            body = response.model_dump(mode="json", by_alias=True, exclude_none=True)
        await _answer_invoke(context, body)


async def _answer_invoke(context: TurnContext, body: dict) -> None:
    """An invoke's HTTP answer: 200 with `body` (Teams shows an error for a missing one)."""
    await context.send_activity(
        Activity(
            type=ActivityTypes.invoke_response,
            value=InvokeResponse(status=HTTPStatus.OK, body=body),
        )  # fmt: skip
    )


def _register_control(
    app: AgentApplication,
    shared: TeamsRuntime,
    verb: str,
    change: Callable[[Target, str], UseCase | None],
) -> None:
    @app.adaptive_card.action_execute(verb)
    async def on_control(context: TurnContext, state: TurnState, data: dict) -> InvokeResponse:
        runtime = turn_runtime(context, shared)
        data = data if isinstance(data, dict) else {}
        object_id = object_id_of(context.activity)
        target = Target.parse(str(data.get(ids.TARGET_KEY) or ""))
        input_id = str(data.get(ids.INPUT_KEY) or "")
        kind = verb.rsplit(".", 1)[-1]
        use_case = None
        if target is not None and object_id and input_id.startswith(kind + "."):
            use_case = change(target, str(data.get(input_id) or ""))
        if use_case is None:
            return card_response(OUT_OF_DATE, runtime)
        try:
            result = await runtime.use_async(object_id, use_case)
            source = str(data.get(ids.SOURCE_KEY) or "")
            reply = await after_change(runtime, object_id, reply_of(result), source)
        except Exception:  # noqa: BLE001  (the card must still be answered)
            log.exception("Teams card control failed")
            reply = error_reply(FAILED)
        return card_response(reply, runtime)


async def _file_consent(context: TurnContext, runtime: TeamsRuntime, value: dict) -> None:
    """The person accepted (upload the file to the URL given) or declined a paper."""
    accepted = value.get("action") == "accept"
    chosen = value.get("context") if isinstance(value.get("context"), dict) else {}
    info = value.get("uploadInfo") if isinstance(value.get("uploadInfo"), dict) else {}
    if not accepted:
        return await _say(context, "All right: the file was not sent.")
    command, name = str(chosen.get("command") or ""), str(chosen.get("file") or "")
    url, object_id = str(info.get("uploadUrl") or ""), object_id_of(context.activity)
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
        await upload(url, await file_bytes(file, reply.tz or runtime.settings.tz))
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


async def after_change(runtime: TeamsRuntime, object_id: str, reply: Reply, source: str) -> Reply:
    """What a card shows after a control or form saved: what it was drawn from, redrawn as it
    now is with what happened on top (`source`, a listing); else the change's own reply."""
    if reply.error or not source or not is_read_only(source):
        return reply
    fresh = await runtime.run_async(object_id, source)
    if fresh.error:
        return reply
    fresh.notice = reply.title
    return fresh


def reply_of(result: object) -> Reply:
    """A form's outcome as a reply: a refused field's message becomes the error shown."""
    if isinstance(result, Outcome):
        if result.errors and not result.reply.items:
            message = next(iter(result.errors.values()))
            return error_reply(message, "Nothing was changed.")
        return result.reply
    return result if isinstance(result, Reply) else error_reply(FAILED)


def card_response(reply: Reply, runtime: TeamsRuntime) -> InvokeResponse:
    """An Action.Execute's answer: the reply's card, drawn in place of the one clicked."""
    return factory.adaptive_card(render_card(reply, runtime.settings.tz))


def card_activity(
    reply: Reply,
    runtime: TeamsRuntime,
    *,
    interactive: bool = True,
    images: Mapping[str, str] | None = None,
) -> Activity:
    """A message carrying the reply as a card, with its plain-text fallback."""
    tz = runtime.settings.tz
    card = render_card(reply, tz, interactive=interactive, images=images)
    return Activity(
        type=ActivityTypes.message,
        text=fallback_text(reply, tz),
        text_format="plain",
        attachments=[Attachment(content_type=CONTENT_TYPE, content=SentCard(card))],
    )


async def _answer(
    context: TurnContext,
    reply: Reply,
    runtime: TeamsRuntime,
    *,
    interactive: bool = True,
    images: Mapping[str, str] | None = None,
) -> None:
    activity = card_activity(reply, runtime, interactive=interactive, images=images)
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
        tenant = where_of(activity).tenant
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
            "user": {"id": person, "aadObjectId": object_id_of(activity)},
            "conversation": {"id": created.id, "conversationType": PERSONAL, "tenantId": tenant},
        }
        await _store(self.runtime, object_id_of(activity), reference)
        return created.id


async def _post_to_channels(context: TurnContext, reply: Reply, runtime: TeamsRuntime) -> None:
    """Post `reply` to each Teams channel in `reply.post_to`; tell the asker, privately, where
    it went (and why not, where it did not)."""
    message = card_activity(reply, runtime, interactive=False)
    posted: list[str] = []
    lines: list[str] = []
    here, elsewhere = channels_on(reply.post_to, ids.CHANNEL)
    for channel in here:
        try:
            await _new_channel_conversation(context, channel, message)
        except ConnectorError as error:
            log.warning("posting to a summary channel failed: %s", error)
            lines.append(_not_posted(channel, error))
            continue
        posted.append(channel)
    if elsewhere:
        lines.append(f"Not on Teams, so not posted from here: {', '.join(elsewhere)}.")
    title = (
        f"Posted the {reply.title} to {', '.join(posted)}."
        if posted
        else f"The {reply.title} was not posted to any channel."
    )
    answer = Reply(title=title, text="\n".join(lines), error=not posted)
    if _is_personal(context.activity):
        return await _answer(context, answer, runtime, interactive=False)
    if await _PrivateChat(context, runtime).send(card_activity(answer, runtime, interactive=False)):
        return await _say(context, SENT_PRIVATELY)
    # Where the summary went is no secret: said here when no personal chat could be opened.
    await _answer(context, answer, runtime, interactive=False)


def _not_posted(channel: str, error: ConnectorError) -> str:
    if error.retryable:
        return f"Not posted to {channel}: Teams could not take it ({error}). Try again in a minute."
    return (
        f"Not posted to {channel}: Teams refused it ({error}). Add the app to that channel's team, "
        "then try again."
    )


async def _new_channel_conversation(context: TurnContext, channel: str, message: Activity) -> None:
    """Start a conversation in a Teams channel (its bare id) with `message` as its first post."""
    activity = context.activity
    connector = context.services.get(ConnectorClientBase)
    if connector is None:
        raise ConnectorError(0, True, "no connector for this turn")
    tenant = where_of(activity).tenant
    channel_data: dict = {"channel": {"id": channel}}
    if tenant:
        channel_data["tenant"] = {"id": tenant}
    parameters = ConversationParameters(
        is_group=True,
        bot=ChannelAccount(id=activity.recipient.id),
        activity=message,
        tenant_id=tenant or None,
        channel_data=channel_data,
    )
    await with_retries(lambda: connector.conversations.create_conversation(parameters))


async def _chart_links(
    reply: Reply, runtime: TeamsRuntime, charts: ChartLinks | None
) -> dict[str, str]:
    """Signed links for the reply's RAG charts, drawn in its card (none without a public URL)."""
    files = [f for f in reply.files if isinstance(f.document, ChartData)
             and f.delivery == Delivery.CHANNEL]  # fmt: skip
    if not files or charts is None or not charts.enabled:
        return {}
    board = runtime.board_slug
    version = await asyncio.to_thread(current_version, runtime.engine, board)
    if version is None:
        return {}
    return {file.filename: charts.url(board, version) for file in files}


async def _send_files(
    files: list[ReplyFile],
    command: str,
    tz: ZoneInfo,
    here: "_Here | _PrivateChat",
    private,
) -> None:
    """Charts inline where the reply went; papers offered in the personal chat (file consent),
    drawn in the Board's zone `tz`."""
    for file in files:
        try:
            data = await file_bytes(file, tz)
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
    # Both change with every message: kept, every message would rewrite the stored reference.
    reference.pop("activityId", None)
    reference.pop("requestId", None)
    object_id, now = object_id_of(activity), runtime.clock()
    text = json.dumps(reference, sort_keys=True)
    if runtime.remembered_lately(object_id, text, now):
        return True
    stored = await _store(runtime, object_id, reference)
    if stored:
        runtime.remember(object_id, text, now)
    return stored


async def _store(runtime: TeamsRuntime, object_id: str, reference: dict) -> bool:
    try:
        return await asyncio.to_thread(
            remember_conversation, runtime.engine, runtime.board_slug,
            object_id=object_id, reference=reference, now=runtime.clock(),
        )  # fmt: skip
    except Exception:  # noqa: BLE001  (a missed reference only delays reminders to next time)
        log.warning("could not store a Teams conversation reference", exc_info=True)
        return False


def object_id_of(activity: Activity) -> str:
    """The sender's Entra object id ("" when Teams did not say)."""
    person = activity.from_property
    return (person.aad_object_id or "") if person else ""


def _is_personal(activity: Activity) -> bool:
    conversation = activity.conversation
    kind = (conversation.conversation_type or PERSONAL) if conversation else PERSONAL
    return kind == PERSONAL
