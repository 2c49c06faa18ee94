"""Action commands: status listings, one action in full, add, update, done, note, history."""

import re
from datetime import timedelta

from sqlmodel import Session

from handlers.cache import REGISTER_CACHE, register_key
from handlers.context import Context
from handlers.errors import CommandError
from handlers.permissions import (
    is_admin,
    may_update,
    own_partner_ids,
    require_admin,
    require_member,
    visibility_for,
)
from handlers.personal_data import ALLOW_OPTION, Finding, record_allowed, screen, take_override
from handlers.register.present import action_items, area_names, history_facts
from handlers.replies import Operation, Page, Reply, Section
from handlers.text.dates import DateParseError, parse_user_date
from handlers.text.parsing import Args, clean
from handlers.text.vocab import (
    find_area,
    find_partners,
    parse_rag,
    parse_ref,
    parse_strands,
    parse_yes_no,
)
from models.actions import (
    ActionFilter,
    Visibility,
    create_action,
    get_action,
    history_of,
    leads_of,
    list_actions,
    lock_action,
    update_action,
)
from models.people import list_partners
from models.tables import Action, Rag

PAGE_SIZE = 10
EDIT_FORM = "action edit"  # the reply `Operation` that opens an action's form
MAX_PAGE = 100_000
TEXT_FIELDS = {
    "title": "issue",
    "issue": "issue",
    "action": "action_text",
    "text": "action_text",
    "barriers": "barriers",
    "outcomes": "outcomes",
}
ADD_OPTIONS = {*TEXT_FIELDS, "area", "lead", "due", "strand", "rag", "confidential", "note",
               ALLOW_OPTION}  # fmt: skip
UPDATE_OPTIONS = ADD_OPTIONS
ADMIN_ONLY_FIELDS = {"area", "lead", "confidential"}
NOTE_LIMIT = 4000  # ActionChange.note
FIELD_LIMITS = {"issue": 2000, "action_text": 8000, "barriers": 4000, "outcomes": 4000}
RECENT = timedelta(hours=1)


class ChangedMeanwhile(CommandError):
    """A change based on an older version of the action: refused, naming who changed it."""

    def __init__(self, message: str, hint: str, ref: str) -> None:
        super().__init__(message, hint)
        self.ref = ref


def status(session: Session, ctx: Context, args: Args) -> Reply:
    """`action status [all | <ref> | area <name> | partner <name> | overdue] [page N]`."""
    member = require_member(ctx)
    words, page = _take_page(args.words)
    first = words[0].casefold() if words else ""
    if len(words) == 1 and first not in ("all", "overdue", "mine", "area", "partner"):
        return show_action(session, ctx, words[0])
    where, title, command = ActionFilter(), "All actions", "action status all"
    notice = ""
    if first in ("", "mine"):
        partner_ids = own_partner_ids(session, member)
        command = "action status"
        if partner_ids:
            where, title = ActionFilter(partner_ids=partner_ids), "Your partner's actions"
        else:
            notice = "You are not a lead partner's contact, so this shows every action."
    elif first == "all":
        pass
    elif first == "overdue":
        where, title = ActionFilter(overdue_on=ctx.today), "Overdue actions"
        command = "action status overdue"
    elif first == "area":
        area = find_area(session, ctx.board.id, " ".join(words[1:]))
        where, title = ActionFilter(area_id=area.id), f"Actions: {area.name}"
        command = f'action status area "{area.name}"'
    elif first == "partner":
        partners = find_partners(session, ctx.board.id, " ".join(words[1:]) or "?")
        if not partners:
            raise CommandError("Which partner?", "Example: `action status partner CoLP`.")
        where = ActionFilter(partner_ids=frozenset(p.id for p in partners))
        title = "Actions led by " + ", ".join(p.name for p in partners)
        command = f'action status partner "{partners[0].name}"'
    else:
        raise CommandError(
            f"I don't know how to list “{' '.join(words)}”.",
            "Try `action status`, `action status all`, `action status A-3`, "
            "`action status area cyber`, `action status partner CoLP` or `action status overdue`.",
        )
    return _listing(session, ctx, where, title, command, page, notice)


def _listing(
    session: Session,
    ctx: Context,
    where: ActionFilter,
    title: str,
    command: str,
    page: int,
    notice: str,
) -> Reply:
    visibility = visibility_for(session, ctx.member)
    # Role and visibility decide which buttons each item carries, so they key the cache too.
    key = register_key(
        session, ctx.board, "listing", where, visibility, ctx.member.role, page, title, command,
        notice,
    )  # fmt: skip
    return REGISTER_CACHE.get_or_compute(
        key, lambda: _page(session, ctx, where, visibility, title, command, page, notice)
    )


def _page(
    session: Session,
    ctx: Context,
    where: ActionFilter,
    visibility: Visibility,
    title: str,
    command: str,
    page: int,
    notice: str,
) -> Reply:
    actions, total = list_actions(
        session=session,
        board_id=ctx.board.id,
        visibility=visibility,
        where=where,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:
        raise CommandError(
            f"There is no page {page}: {title.lower()} fill {pages}.",
            f"Try `{command} page {pages}`.",
        )
    if total == 0:
        text = "No actions match."
    else:
        first, last = (page - 1) * PAGE_SIZE + 1, (page - 1) * PAGE_SIZE + len(actions)
        text = f"{total} action{'s' if total != 1 else ''}" + (
            f", showing {first}–{last}." if pages > 1 else "."
        )
    return Reply(
        title=title,
        text=text,
        items=action_items(session, ctx, actions),
        notice=notice,
        page=Page(page, pages, command) if pages > 1 else None,
        rag_legend=bool(actions),
        source=command + (f" page {page}" if page > 1 else ""),
    )


def show_action(session: Session, ctx: Context, ref_text: str) -> Reply:
    """One action in full, with its recent history."""
    action = _readable_action(session, ctx, ref_text)
    item = action_items(session, ctx, [action], full=True)[0]
    areas = area_names(session, ctx)
    recent = history_of(session=session, action_id=action.id, limit=5)
    section = Section(
        "Recent history", facts=history_facts(recent, areas, _partner_names(session, ctx))
    )
    return Reply(
        title=f"{action.ref}: {item.title}",
        items=[item],
        sections=[section],
        rag_legend=True,
        source=f"action status {action.ref}",
    )


def history(session: Session, ctx: Context, args: Args) -> Reply:
    """`action history <ref>`: every change, newest first."""
    if len(args.words) != 1:
        raise CommandError("Which action?", "Usage: `action history A-12`.")
    action = _readable_action(session, ctx, args.words[0])
    areas = area_names(session, ctx)
    changes = history_of(session=session, action_id=action.id, limit=50)
    return Reply(
        title=f"History of {action.ref}",
        text=f"{len(changes)} most recent change{'s' if len(changes) != 1 else ''}, newest first.",
        sections=[
            Section("Changes", facts=history_facts(changes, areas, _partner_names(session, ctx)))
        ],
    )


def add(session: Session, ctx: Context, args: Args) -> Reply:
    """`action add area=... lead=... title=... [...]` (chair, deputy, secretariat)."""
    member = require_admin(ctx, "add actions")
    if args.words:
        raise CommandError(
            f"I don't understand “{args.text()}”.",
            'Give every value as key=value, quoting spaces: title="Engage SMEs".',
        )
    missing = [k for k in ("area", "lead", "title") if not args.options.get(k)]
    if missing:
        raise CommandError(
            "To add an action give " + ", ".join(f"{k}=" for k in missing) + ".",
            'Example: `action add area="Cyber attack" lead=CoLP title="Engage SMEs" due=31/3/2027`',
        )
    fields = parse_fields(session, ctx, args.options)
    _check_length("note", args.options.get("note", ""), NOTE_LIMIT)
    allowed = screen(ctx, _free_text(args.options), args.options.get(ALLOW_OPTION))
    action = create_action(
        session=session,
        board_id=ctx.board.id,
        now=ctx.now,
        actor=member,
        area_id=fields.pop("area_id"),
        lead_ids=fields.pop("leads"),
        strands=fields.pop("strands", []),
        note=args.options.get("note", ""),
        **fields,
    )
    record_allowed(session, action, allowed, now=ctx.now, actor=member)
    reply = show_action(session, ctx, action.ref)
    reply.title = f"Added {reply.title}"
    return reply


def edit(session: Session, ctx: Context, args: Args) -> Reply:
    """`action edit <ref>`: a form where the surface has forms; elsewhere how to change it."""
    if len(args.words) != 1:
        raise CommandError("Which action?", "Usage: `action edit A-12`.")
    action = writable_action(session, ctx, args.words[0])
    reply = show_action(session, ctx, action.ref)
    reply.title = f"Edit {reply.title}"
    if ctx.surface.forms:
        # The target carries the version, so a form filled in after a change is refused.
        target = f"{action.ref}:{action.version}"
        reply.operations.append(Operation(EDIT_FORM, "Edit…", target))
    reply.text = (
        f"Change {action.ref} with `action update`, giving only what changes; "
        "`help action` lists every option."
    )
    reply.hint = (
        f'Example: `action update {action.ref} rag=green due=31/03/2027 note="what changed"`'
    )
    return reply


def update(
    session: Session, ctx: Context, args: Args, *, expected_version: int | None = None
) -> Reply:
    """`action update <ref> [rag=] [due=] [note=] [...]`; refused if the action has moved on."""
    if len(args.words) != 1 or not args.options:
        raise CommandError(
            "Say which action and what to change.",
            'Usage: `action update A-12 rag=green due=31/03/2027 note="..."`',
        )
    action = writable_action(session, ctx, args.words[0], expected_version, lock=True)
    note = args.options.pop("note", "")
    admin_fields = ADMIN_ONLY_FIELDS & set(args.options)
    if admin_fields and not is_admin(ctx.member):
        names = ", ".join(sorted(admin_fields))
        raise CommandError(
            f"Only the chair, deputy chair or secretariat can change {names}.",
            "You can change rag, due, title, action, barriers, outcomes and strand, or add a note.",
        )
    changes = parse_fields(session, ctx, args.options)
    if changes.get("rag") == Rag.BLUE and action.rag != Rag.BLUE and not note:
        # Closing an action records what it achieved, whichever command closes it.
        raise CommandError(
            f"Say what {action.ref} achieved when marking it complete.",
            f'Usage: `action update {action.ref} rag=blue note="outcome"` '
            f'or `action done {action.ref} note="outcome"`.',
        )
    texts = {**_free_text(args.options), "note": note}
    allowed = screen(ctx, texts, args.options.get(ALLOW_OPTION))
    return _apply(session, ctx, action, changes, note, allowed)


def done(
    session: Session, ctx: Context, args: Args, *, expected_version: int | None = None
) -> Reply:
    """`action done <ref> note="outcome"`: mark complete (Blue) with the outcome."""
    if len(args.words) < 1:
        raise CommandError("Which action is complete?", 'Usage: `action done A-12 note="outcome"`')
    note = args.options.get("note") or clean(" ".join(args.words[1:]))
    if not note:
        raise CommandError(
            "Say what the outcome was when closing an action.",
            f'Usage: `action done {args.words[0]} note="what was achieved"`',
        )
    action = writable_action(session, ctx, args.words[0], expected_version, lock=True)
    if action.rag == Rag.BLUE:
        raise CommandError(
            f"{action.ref} is already complete (Blue).",
            f"Add to it with `action note {action.ref} ...`.",
        )
    allowed = screen(ctx, {"note": note}, args.options.get(ALLOW_OPTION))
    return _apply(session, ctx, action, {"rag": Rag.BLUE.value}, note, allowed)


def note(session: Session, ctx: Context, raw: str, *, expected_version: int | None = None) -> Reply:
    """`action note <ref> <text>`: a progress note, taken exactly as typed."""
    # The reference ends at the first space, tab or line break (Shift+Enter in a chat app).
    ref_text, text = raw.strip(), ""
    if match := re.match(r"(\S+)\s+(.*)", raw.strip(), re.DOTALL):
        ref_text, text = match.groups()
    text, allow = take_override(clean(text))
    if not ref_text or not text:
        raise CommandError(
            "Give the action and the note.",
            "Usage: `action note A-12 Met the NCA; report due in March`",
        )
    _check_length("note", text, NOTE_LIMIT)
    action = writable_action(session, ctx, ref_text, expected_version, lock=True)
    allowed = screen(ctx, {"note": text}, allow)
    return _apply(session, ctx, action, {}, text, allowed)


def _apply(
    session: Session,
    ctx: Context,
    action: Action,
    changes: dict,
    note: str,
    allowed: list[Finding] | None = None,
) -> Reply:
    _check_length("note", note, NOTE_LIMIT)
    recorded = update_action(
        session=session, action=action, now=ctx.now, actor=ctx.member, changes=changes, note=note
    )
    if not recorded:
        raise CommandError(
            f"Nothing changed: {action.ref} already has those values.",
            f"See it with `action status {action.ref}`.",
        )
    record_allowed(session, action, allowed or [], now=ctx.now, actor=ctx.member)
    reply = show_action(session, ctx, action.ref)
    reply.title = f"Updated {reply.title}"
    reply.text = f"{len(recorded)} change{'s' if len(recorded) != 1 else ''} recorded."
    return reply


def parse_fields(session: Session, ctx: Context, options: dict[str, str]) -> dict[str, object]:
    """Option values (`area=`, `due=`, ...) as action fields, refusing any that are invalid."""
    fields: dict[str, object] = {}
    for key, value in options.items():
        if key in TEXT_FIELDS:
            field = TEXT_FIELDS[key]
            _check_length(key, value, FIELD_LIMITS[field])
            if field == "issue" and not value:
                raise CommandError("The title cannot be blank.")
            fields[field] = value
        elif key == "area":
            fields["area_id"] = find_area(session, ctx.board.id, value).id
        elif key == "lead":
            partners = find_partners(session, ctx.board.id, value)
            if not partners:
                raise CommandError("An action needs at least one lead partner.")
            fields["leads"] = [p.id for p in partners]
        elif key == "due":
            fields["due_date"] = _parse_due(value, ctx)
        elif key == "strand":
            fields["strands"] = parse_strands(value)
        elif key == "rag":
            fields["rag"] = parse_rag(value).value
        elif key == "confidential":
            fields["confidential"] = parse_yes_no(value, "confidential")
    return fields


def _parse_due(value: str, ctx: Context):
    if value.casefold() in ("none", "clear", "meeting", "next meeting"):
        return None
    try:
        return parse_user_date(value, today=ctx.today)
    except DateParseError as err:
        raise CommandError(str(err), "Or due=none: due at the next Board meeting.") from None


def _free_text(options: dict[str, str]) -> dict[str, str]:
    """The options whose text is kept as typed: checked for personal data."""
    return {key: value for key, value in options.items() if key in TEXT_FIELDS or key == "note"}


def _check_length(name: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise CommandError(
            f"{name}= is too long ({len(value):,} characters; the limit is {limit:,})."
        )


def _readable_action(session: Session, ctx: Context, ref_text: str) -> Action:
    require_member(ctx)
    number = parse_ref(ref_text)
    action = get_action(session=session, board_id=ctx.board.id, number=number)
    visibility = visibility_for(session, ctx.member)
    if action is not None and action.confidential and not visibility.all_confidential:
        lead_ids = {p.id for p in leads_of(session=session, action_ids=[action.id])[action.id]}
        if not lead_ids & visibility.partner_ids:
            action = None  # say "no such action" rather than confirm a closed item exists
    if action is None:
        raise CommandError(
            f"There is no action A-{number}.", "See `action status all` for the list."
        )
    return action


def writable_action(
    session: Session,
    ctx: Context,
    ref_text: str,
    expected_version: int | None = None,
    *,
    lock: bool = False,
) -> Action:
    """The action, if the caller may change it and (given a version) nobody has since.

    With `lock`, the caller is about to change it: it waits for anyone changing it now and gets
    it as they left it, so a change without a version applies on top of theirs, and one with a
    version is refused naming them.
    """
    action = _readable_action(session, ctx, ref_text)
    if lock:
        action = lock_action(session=session, action=action)
    lead_ids = {p.id for p in leads_of(session=session, action_ids=[action.id])[action.id]}
    if not may_update(session, ctx.member, lead_ids):
        raise CommandError(
            f"You can't change {action.ref}: only its lead partner's contacts, the chair, deputy "
            "chair and secretariat can.",
            f"Ask the lead partner, or the secretariat, to update {action.ref}.",
        )
    if expected_version is not None and action.version != expected_version:
        raise _changed_meanwhile(session, ctx, action)
    return action


def _changed_meanwhile(session: Session, ctx: Context, action: Action) -> ChangedMeanwhile:
    last = next(iter(history_of(session=session, action_id=action.id, limit=1)), None)
    when = "a moment ago" if last and ctx.now - last.at <= RECENT else "since this was shown"
    own = last is not None and ctx.member is not None and last.actor_member_id == ctx.member.id
    who = "you" if own else (last.actor_name if last else "someone else")
    complete = action.rag == Rag.BLUE
    if own:
        did = f"marked {action.ref} complete" if complete else f"changed {action.ref}"
        message = f"You already {did} {when}, so this was not applied again."
    else:
        what = "marked complete" if complete else "changed"
        message = f"{action.ref} was {what} by {who} {when}, so your change was not saved."
    hint = "Here is its current state; make your change again if it is still needed."
    return ChangedMeanwhile(message, hint, action.ref)


def _partner_names(session: Session, ctx: Context) -> dict[int, str]:
    return {p.id: p.name for p in list_partners(session=session, board_id=ctx.board.id)}


def _take_page(words: list[str]) -> tuple[list[str], int]:
    if len(words) >= 2 and words[-2].casefold() == "page":
        try:
            page = int(words[-1])
        except ValueError:
            raise CommandError(
                f"“{words[-1]}” is not a page number.", "Example: `page 2`."
            ) from None
        if not 1 <= page <= MAX_PAGE:
            raise CommandError("Page numbers start at 1.", "Example: `page 2`.")
        return words[:-2], page
    return words, 1
