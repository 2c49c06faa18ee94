"""Turning register rows into reply items: titles, facts and the operations a reader may use."""

from sqlmodel import Session

from handlers.cache import REGISTER_CACHE, register_key
from handlers.context import Context
from handlers.permissions import can_update, own_partner_ids
from handlers.replies import Fact, Item
from models.actions import ActionHead, areas_by_id, leads_of, strands_of
from models.tables import Action, ActionChange, Rag

TITLE_LENGTH = 90
OPERATIONS = ("update", "done", "note")


def action_title(action: Action | ActionHead) -> str:
    """A one-line title: the issue, or the first line of the action text."""
    text = action.issue or action.action_text or "(no description)"
    first = text.strip().splitlines()[0] if text.strip() else "(no description)"
    return first if len(first) <= TITLE_LENGTH else first[: TITLE_LENGTH - 1].rstrip() + "…"


def action_items(
    session: Session, ctx: Context, actions: list[Action], *, full: bool = False
) -> list[Item]:
    """Reply items for actions, loading areas, leads and strands in one query each."""
    ids = [a.id for a in actions]
    areas = area_names(session, ctx)
    leads = leads_of(session=session, action_ids=ids)
    strands = strands_of(session=session, action_ids=ids) if full else {}
    own = own_partner_ids(session, ctx.member) if ctx.member is not None else frozenset()
    items = []
    for action in actions:
        lead_names = ", ".join(p.name for p in leads[action.id]) or "no lead partner"
        facts = [
            Fact("Area", areas[action.area_id]),
            Fact("Lead", lead_names),
            Fact("Due", action.due_date or "next Board meeting"),
            Fact("Updated", action.updated_at),
        ]
        if full:
            facts.append(
                Fact("4P strands", ", ".join(s.title() for s in strands[action.id]) or "not set")
            )
            if action.confidential:
                facts.append(Fact("Confidential", "yes: closed item, never shown in channels"))
        body = ""
        if full:
            body = "\n".join(
                f"{label}: {text}"
                for label, text in (
                    ("Issue", action.issue),
                    ("Actions", action.action_text),
                    ("Potential barriers", action.barriers),
                    ("Expected outcomes", action.outcomes),
                )
                if text
            )
        lead_ids = {p.id for p in leads[action.id]}
        allowed = can_update(ctx.member, lead_ids, own)
        items.append(
            Item(
                title=("🔒 " if action.confidential else "") + action_title(action),
                ref=action.ref,
                rag=action.rag,
                facts=facts,
                body=body,
                operations=OPERATIONS if allowed and action.rag != Rag.BLUE else (),
                version=action.version,
            )
        )
    return items


def area_names(session: Session, ctx: Context) -> dict[int, str]:
    """The Board's key crime area names by id, read once per register version."""
    key = register_key(session, ctx.board, "area-names")
    return REGISTER_CACHE.get_or_compute(
        key,
        lambda: {i: a.name for i, a in areas_by_id(session=session, board_id=ctx.board.id).items()},
    )


def describe_change(
    change: ActionChange, area_names: dict[int, str], names: dict[int, str] | None = None
) -> str:
    """One history entry as a sentence; `names` maps partner ids to names for lead changes."""
    names = names or {}
    if change.field == "created":
        text = "created"
    elif change.field == "note":
        text = "note"
    elif change.field in ("leads", "strands"):
        text = (
            f"{change.field}: {_names(change.old_value, names)} → {_names(change.new_value, names)}"
        )
    else:
        old, new = change.old_value, change.new_value
        if change.field == "area_id":
            old = area_names.get(int(old), old) if old else old
            new = area_names.get(int(new), new) if new else new
        label = {"area_id": "area", "action_text": "actions", "due_date": "due"}.get(
            change.field, change.field
        )
        text = f"{label}: {_short(old) or '(blank)'} → {_short(new) or '(blank)'}"
    if change.note:
        text += f" — “{_short(change.note, 300)}”"
    return text


def history_facts(
    changes: list[ActionChange], area_names: dict[int, str], partner_names: dict[int, str]
) -> list[Fact]:
    """History entries as dated facts, each naming who made the change."""
    return [
        Fact(c.actor_name, describe_change(c, area_names, partner_names), at=c.at) for c in changes
    ]


def _names(value: str | None, names: dict[int, str]) -> str:
    """A stored id list (`3,7`) as partner names; strand lists pass through."""
    parts = [p for p in (value or "").split(",") if p]
    if not parts:
        return "(none)"
    return ", ".join(names.get(int(p), p) if p.isdigit() else p.title() for p in parts)


def _short(text: str | None, limit: int = 80) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
