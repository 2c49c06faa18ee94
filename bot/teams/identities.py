"""Teams people in the register: a member is linked by their Entra object id (`aadObjectId`)."""

import json
import logging
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.teams.ids import CHANNEL
from models.boards import get_board
from models.people import attach_identity, find_member_by_identity, identities_of

log = logging.getLogger(__name__)


def remember_conversation(
    engine: Engine, board_slug: str, *, object_id: str, reference: dict, now: datetime
) -> bool:
    """Store the person's 1:1 conversation reference on their Teams identity; False if unknown.

    The worker sends reminders there later. Only a personal chat's reference is stored: a
    channel's would post someone's reminder where everybody reads it.
    """
    if not object_id:
        return False
    with Session(engine, expire_on_commit=False) as session:
        board = get_board(session=session, slug=board_slug)
        if board is None:
            return False
        member = find_member_by_identity(
            session=session, board_id=board.id, channel=CHANNEL, external_id=object_id
        )
        if member is None:
            return False
        identity = next(
            (i for i in identities_of(session=session, member_id=member.id)
             if i.channel == CHANNEL and i.external_id == object_id),
            None,
        )  # fmt: skip
        if identity is None:
            return False
        text = json.dumps(reference, sort_keys=True)
        if (
            identity.conversation == text
            and identity.last_seen_at
            and (now - identity.last_seen_at).total_seconds() < 3600
        ):
            return True  # nothing new: spare the database a write on every message
        attach_identity(session=session, member=member, channel=CHANNEL, external_id=object_id,
                        tenant=identity.tenant, conversation=text, now=now)  # fmt: skip
        session.commit()
    return True


def stored_conversation(text: str) -> dict | None:
    """A stored conversation reference, or None if there is none (or it is not ours)."""
    try:
        reference = json.loads(text) if text else None
    except ValueError:
        return None
    if not isinstance(reference, dict) or not (reference.get("conversation") or {}).get("id"):
        return None
    return reference
