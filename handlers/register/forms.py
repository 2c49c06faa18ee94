"""Buttons and forms: typed values become the same action commands, with errors by field.

Every function here builds the arguments a typed `/soc action ...` command would have and calls
that command's handler, so a click is checked exactly as the command is. What a form adds is
mapping a refused value back to the field it came from, and the version a button was drawn at.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from handlers.context import Context
from handlers.errors import CommandError
from handlers.permissions import is_admin, require_admin
from handlers.register import actions
from handlers.register.actions import ChangedMeanwhile, parse_fields, show_action, writable_action
from handlers.register.present import area_names
from handlers.replies import Reply, error_reply
from handlers.text.parsing import Args, clean
from models.actions import leads_of, strands_of
from models.boards import list_areas
from models.people import list_partners
from models.tables import Action, Rag

TEXT_FIELDS = {"title": "issue", "action": "action_text", "barriers": "barriers",
               "outcomes": "outcomes"}  # fmt: skip
ADD_REQUIRED = {
    "area": "Choose the key crime area.",
    "lead": "Choose at least one lead partner.",
    "title": "Give the action a title.",
}
FORM_FIELDS = ("area", "lead", "title", "action", "barriers", "outcomes", "strand", "due",
               "confidential")  # fmt: skip
_TARGET = re.compile(r"^(A-\d{1,9})(?::(\d{1,12}))?$")


@dataclass(frozen=True)
class Target:
    """The action a button or form acts on, and its version when the button was drawn."""

    ref: str
    version: int | None = None

    def __str__(self) -> str:
        return self.ref if self.version is None else f"{self.ref}:{self.version}"

    @classmethod
    def parse(cls, text: str) -> "Target | None":
        """`A-3:7` (or a plain `A-3` from older messages); None for anything else."""
        match = _TARGET.match(text or "")
        if match is None:
            return None
        return cls(match[1], int(match[2]) if match[2] else None)


@dataclass
class Outcome:
    """What a click or form did: the reply to show, or errors by field (and nothing saved)."""

    reply: Reply
    errors: dict[str, str] = field(default_factory=dict)
    # Set when the action changed since the form was drawn: the action at its current version.
    moved_on: Target | None = None

    @property
    def error(self) -> bool:
        """Whether nothing was saved."""
        return self.reply.error or bool(self.errors)


@dataclass
class ActionForm:
    """The add/edit form's choices and current values (keyed like the command's options)."""

    areas: list[tuple[int, str]]
    partners: list[tuple[int, str]]
    values: dict[str, object]
    editable: tuple[str, ...]
    target: Target | None = None
    title: str = ""


def set_rag(session: Session, ctx: Context, target: Target, rag: str) -> Reply:
    """The RAG select: `action update <ref> rag=<colour>`."""
    return _update(session, ctx, target, {"rag": rag})


def set_due(session: Session, ctx: Context, target: Target, due: date | None) -> Reply:
    """The date picker: `action update <ref> due=<date>` (none: the next meeting)."""
    return _update(session, ctx, target, {"due": due.isoformat() if due else "none"})


def complete(session: Session, ctx: Context, target: Target, outcome: str) -> Outcome:
    """The "Mark complete" form: `action done <ref> note=<outcome>`."""
    outcome = clean(outcome or "")
    if not outcome:
        return _invalid("outcome", "Say what the action achieved.")
    if len(outcome) > actions.NOTE_LIMIT:
        return _invalid("outcome", _too_long(outcome, actions.NOTE_LIMIT))
    args, version = Args([target.ref], {"note": outcome}), target.version
    return _unless_closed(
        check_writable(session, ctx, target)
        or _on_field(
            session,
            ctx,
            lambda: actions.done(session, ctx, args, expected_version=version),
            "outcome",
        )
    )


def add_note(session: Session, ctx: Context, target: Target, text: str) -> Outcome:
    """The "Add note" form: `action note <ref> <text>`."""
    text = clean(text or "")
    if not text:
        return _invalid("note", "Write the note.")
    if len(text) > actions.NOTE_LIMIT:
        return _invalid("note", _too_long(text, actions.NOTE_LIMIT))
    if refused := check_writable(session, ctx, target):
        return refused
    raw, version = f"{target.ref} {text}", target.version
    return _on_field(
        session, ctx, lambda: actions.note(session, ctx, raw, expected_version=version), "note"
    )


def check_writable(
    session: Session, ctx: Context, target: Target, *, closing: bool = False
) -> Outcome | None:
    """Why the caller may not change this action now (None: they may), e.g. as a form opens.

    If it only moved on since the control was drawn, `moved_on` says where to start again
    (unless `closing` it and it has been closed meanwhile).
    """
    try:
        writable_action(session, ctx, target.ref, target.version)
    except ChangedMeanwhile as err:
        moved = _moved(session, ctx, err)
        return _unless_closed(moved) if closing else moved
    except CommandError as err:
        return Outcome(error_reply(err.message, err.hint))
    return None


def current_state(session: Session, ctx: Context, ref: str) -> Reply:
    """The action as the caller sees it now (an explanation if they no longer may)."""
    try:
        return show_action(session, ctx, ref)
    except CommandError as err:
        return error_reply(err.message, err.hint)


def action_form(session: Session, ctx: Context, target: Target | None) -> ActionForm | Reply:
    """The form to add an action (no target), or to edit one, prefilled; a refusal as a reply."""
    try:
        if target is None:
            require_admin(ctx, "add actions")
            action = None
        else:
            action = writable_action(session, ctx, target.ref, target.version)
    except ChangedMeanwhile as err:
        return _with_current_state(session, ctx, err)
    except CommandError as err:
        return error_reply(err.message, err.hint)
    areas = [(a.id, a.name) for a in list_areas(session=session, board_id=ctx.board.id)]
    partners = [(p.id, p.name) for p in list_partners(session=session, board_id=ctx.board.id)]
    if action is None:
        return ActionForm(areas, partners, {"strand": [], "confidential": False},
                          FORM_FIELDS, title="New action")  # fmt: skip
    admin = is_admin(ctx.member)
    editable = tuple(
        f for f in (*FORM_FIELDS, "note") if admin or f not in actions.ADMIN_ONLY_FIELDS
    )
    return ActionForm(areas, partners, _current_values(session, action), editable,
                      Target(action.ref, action.version), f"Edit {action.ref}")  # fmt: skip


def save_action_form(
    session: Session, ctx: Context, values: dict[str, object], target: Target | None
) -> Outcome:
    """The add/edit form submitted: `action add ...` or `action update <ref> ...` (changes only)."""
    try:
        if target is None:
            require_admin(ctx, "add actions")
            current: dict[str, object] = {}
        else:
            action = writable_action(session, ctx, target.ref, target.version)
            current = _current_values(session, action)
    except ChangedMeanwhile as err:
        return Outcome(_with_current_state(session, ctx, err))
    except CommandError as err:
        return Outcome(error_reply(err.message, err.hint))
    options, errors = _options(session, ctx, values, current)
    if target is None:
        for key, message in ADD_REQUIRED.items():
            if not options.get(key) and key not in errors:
                errors[key] = message
    note = clean(str(values.get("note") or ""))
    if len(note) > actions.NOTE_LIMIT:
        errors["note"] = _too_long(note, actions.NOTE_LIMIT)
    if target is not None and not options and not note and not errors:
        where = "note" if "note" in values else next(iter(values), "note")
        errors[where] = "Nothing has changed: change something, or cancel."
    if errors:
        return Outcome(Reply(title="Please check the form.", error=True), errors)
    if note:
        options["note"] = note
    fallback = "note" if "note" in values else "title" if "title" in values else next(iter(values))
    if target is None:
        args = Args([], options)
        return _on_field(session, ctx, lambda: actions.add(session, ctx, args), fallback)
    args, version = Args([target.ref], options), target.version
    return _on_field(
        session,
        ctx,
        lambda: actions.update(session, ctx, args, expected_version=version),
        fallback,
        fields=tuple(values),
    )


def _options(
    session: Session, ctx: Context, values: dict[str, object], current: dict[str, object]
) -> tuple[dict[str, str], dict[str, str]]:
    """The changed values as command options, each checked by the command's own parser."""
    areas = area_names(session, ctx)
    partners = {p.id: p.name for p in list_partners(session=session, board_id=ctx.board.id)}
    options: dict[str, str] = {}
    errors: dict[str, str] = {}
    for key, value in values.items():
        if key not in FORM_FIELDS or (current and _same(value, current.get(key))):
            continue
        if key == "area":
            if value is None or value not in areas:
                errors[key] = ADD_REQUIRED["area"]
                continue
            text = areas[value]
        elif key == "lead":
            unknown = [i for i in value or [] if i not in partners]
            if not value or unknown:
                errors[key] = ADD_REQUIRED["lead"]
                continue
            text = ",".join(partners[i] for i in value)
        elif key == "strand":
            text = ",".join(value) if value else "none"
        elif key == "due":
            text = value.isoformat() if value else "none"
        elif key == "confidential":
            text = "yes" if value else "no"
        else:
            text = clean(str(value or ""))
            if not text and not current:
                continue  # an empty optional box on a new action
        try:
            parse_fields(session, ctx, {key: text})
        except CommandError as err:
            errors[key] = err.message.replace(f"{key}= is ", "This is ", 1)
            continue
        options[key] = text
    return options, errors


def _current_values(session: Session, action: Action) -> dict[str, object]:
    leads = leads_of(session=session, action_ids=[action.id])[action.id]
    strands = strands_of(session=session, action_ids=[action.id])[action.id]
    values: dict[str, object] = {key: getattr(action, name) for key, name in TEXT_FIELDS.items()}
    values.update(area=action.area_id, lead=[p.id for p in leads], strand=sorted(strands),
                  due=action.due_date, confidential=action.confidential)  # fmt: skip
    return values


def _same(value: object, current: object) -> bool:
    if isinstance(value, list | tuple) and isinstance(current, list | tuple):
        return sorted(value) == sorted(current)
    if isinstance(current, str):
        return clean(str(value or "")) == clean(current)
    return value == current


def _update(session: Session, ctx: Context, target: Target, options: dict[str, str]) -> Reply:
    args = Args([target.ref], options)

    def run() -> Reply:
        # Controls are never drawn on a completed action, so one without a version (an older
        # message) that meets a completed action was drawn before it closed: don't reopen it.
        if target.version is None and writable_action(session, ctx, target.ref).rag == Rag.BLUE:
            current = current_state(session, ctx, target.ref)
            return Reply(
                title=f"{target.ref} was marked complete since this was shown, so your change "
                "was not saved.",
                hint=f"Reopen it with `action update {target.ref} rag=amber` if it is needed.",
                error=True,
                items=current.items,
                source=current.source,
            )
        return actions.update(session, ctx, args, expected_version=target.version)

    return _guarded(session, ctx, run)


def _unless_closed(outcome: Outcome) -> Outcome:
    if outcome.moved_on and any(item.rag == Rag.BLUE for item in outcome.reply.items):
        outcome.moved_on = None  # closed meanwhile: nothing left to retry
    return outcome


def _moved(session: Session, ctx: Context, err: ChangedMeanwhile) -> Outcome:
    reply = _with_current_state(session, ctx, err)
    version = reply.items[0].version if reply.items else None
    return Outcome(reply, moved_on=Target(err.ref, version))


def _on_field(
    session: Session,
    ctx: Context,
    run: Callable[[], Reply],
    fallback: str,
    fields: tuple[str, ...] = (),
) -> Outcome:
    """Save through the command, once the caller is known to be allowed: anything it still refuses
    is a value only it checks, so the message goes on the field it names (else on `fallback`)
    and the form stays open with what was typed."""
    try:
        return Outcome(run())
    except ChangedMeanwhile as err:
        return _moved(session, ctx, err)
    except CommandError as err:
        key = next((k for k in fields if f"{k}=" in err.message), fallback)
        message = err.message + (f" {err.hint}" if err.hint else "")
        return Outcome(error_reply(err.message, err.hint), {key: message})


def _guarded(session: Session, ctx: Context, run: Callable[[], Reply]) -> Reply:
    """The handler's reply; a refusal as an error reply, with the current state if it moved on."""
    try:
        return run()
    except ChangedMeanwhile as err:
        return _with_current_state(session, ctx, err)
    except CommandError as err:
        return error_reply(err.message, err.hint)


def _with_current_state(session: Session, ctx: Context, err: ChangedMeanwhile) -> Reply:
    reply = current_state(session, ctx, err.ref)
    return Reply(title=err.message, hint=err.hint, error=True, items=reply.items,
                 rag_legend=bool(reply.items), source=reply.source)  # fmt: skip


def _invalid(key: str, message: str) -> Outcome:
    return Outcome(Reply(title=message, error=True), {key: message})


def _too_long(text: str, limit: int) -> str:
    return f"This is too long ({len(text):,} characters; the limit is {limit:,})."
