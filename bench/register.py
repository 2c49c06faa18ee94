"""A large synthetic register for benchmarks: the Annex B Board plus N bulk-inserted actions."""

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from bot.config import Settings
from bot.setup import ANNEX_B, PARTNERS, import_file
from models.boards import get_board, list_areas
from models.db import make_engine, session_scope
from models.meetings import add_meeting
from models.migrate import current_revision, head_revision, upgrade
from models.people import find_partner, list_partners, save_member
from models.tables import Action, ActionChange, ActionLead, ActionStrand, Rag, Role, Strand

NOW = datetime(2027, 1, 20, 10, 0, tzinfo=UTC)
CHAIR, COLP = "UCHAIR", "UCOLP"
RAGS = [Rag.RED, Rag.AMBER, Rag.AMBER, Rag.GREEN, Rag.GREEN, Rag.BLUE, Rag.NONE]
BATCH = 5000


def build_register(path: Path, actions: int, seed: int = 3) -> Settings:
    """Create (or reuse) a SQLite register at `path` with about `actions` actions."""
    settings = Settings(database_url=f"sqlite:///{path}")
    if path.exists():
        engine = make_engine(settings.database_url)
        current = current_revision(engine)
        engine.dispose()
        if current == head_revision():
            return settings
        path.unlink()  # made by an older schema: build it again
    engine = make_engine(settings.database_url)
    upgrade(engine)
    import_file(engine, settings, ANNEX_B, now=NOW - timedelta(days=60), partners=PARTNERS)
    rng = random.Random(seed)
    with session_scope(engine) as session:
        board = get_board(session=session, slug=settings.board_slug)
        colp = find_partner(session=session, board_id=board.id, text="CoLP")
        for user_id, name, role, partner_id in (
            (CHAIR, "Chair", Role.CHAIR, None),
            (COLP, "CoLP contact", Role.MEMBER, colp.id),
        ):
            save_member(session=session, board_id=board.id, external_id=user_id,
                        display_name=name, role=role.value, partner_id=partner_id)  # fmt: skip
        meeting_at = NOW - timedelta(days=28)
        add_meeting(session=session, board_id=board.id, starts_at=meeting_at)
        areas = [a.id for a in list_areas(session=session, board_id=board.id)]
        partners = [p.id for p in list_partners(session=session, board_id=board.id)]
        first = 1 + max((a.number for a in session.query(Action).all()), default=0)
        for start in range(0, actions, BATCH):
            insert_actions(session, board.id, first + start, min(BATCH, actions - start),
                          areas, partners, meeting_at, rng)  # fmt: skip
    engine.dispose()
    return settings


def insert_actions(session, board_id, first, count, areas, partners, meeting_at, rng) -> None:
    """Bulk-insert actions numbered from `first` (leads, strands and history with them)."""
    rows = []
    for number in range(first, first + count):
        created = NOW - timedelta(days=rng.randint(1, 400))
        updated = max(created, NOW - timedelta(days=rng.randint(0, 90)))
        rows.append({
            "board_id": board_id, "number": number, "area_id": rng.choice(areas),
            "issue": f"Synthetic action {number}: disrupt an organised crime group",
            "action_text": "Share intelligence; joint operation; report to the Board.",
            "rag": rng.choice(RAGS).value, "confidential": rng.random() < 0.05,
            "due_date": date(2027, 1, 1) + timedelta(days=rng.randint(-120, 240))
            if rng.random() < 0.7 else None,
            "created_at": created, "updated_at": updated, "version": 1,
        })  # fmt: skip
    session.execute(insert(Action), rows)
    session.flush()
    ids = dict(session.query(Action.number, Action.id)
               .filter(Action.board_id == board_id, Action.number >= first).all())  # fmt: skip
    leads, strands, changes = [], [], []
    for row in rows:
        action_id = ids[row["number"]]
        for partner_id in rng.sample(partners, rng.choice((1, 1, 2))):
            leads.append({"action_id": action_id, "partner_id": partner_id})
        for strand in rng.sample(list(Strand), rng.randint(0, 2)):
            strands.append({"action_id": action_id, "strand": strand.value})
        changes.append(_change(board_id, action_id, row["created_at"], "created", None,
                               f"A-{row['number']}"))  # fmt: skip
        if row["updated_at"] > meeting_at and rng.random() < 0.3:
            changes.append(_change(board_id, action_id, row["updated_at"], "rag",
                                   rng.choice(RAGS).value, row["rag"]))  # fmt: skip
    session.execute(insert(ActionLead), leads)
    if strands:
        session.execute(insert(ActionStrand), strands)
    session.execute(insert(ActionChange), changes)


def _change(board_id, action_id, at, field, old, new) -> dict:
    return {"board_id": board_id, "action_id": action_id, "at": at, "actor_member_id": None,
            "actor_name": "import", "field": field, "old_value": old, "new_value": new,
            "note": ""}  # fmt: skip
