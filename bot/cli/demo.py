"""`soc-bot demo`: the real Annex B register on a fresh SQLite file, played through the console."""

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from dateutil.rrule import MONTHLY, TU, rrule

from bot.cli.console import Console
from bot.config import Settings
from bot.setup import ANNEX_B, PARTNERS, import_file
from handlers.register.admin import set_member
from models.boards import get_board
from models.db import make_engine, session_scope
from models.meetings import add_meeting
from models.migrate import upgrade

CHAIR, SECRETARIAT, COLP, CHILDREN, OBSERVER = "U0CHAIR", "U0SECRET", "U0COLP", "U0CHILD", "U0OBS"
DEMO_MEMBERS = (
    (CHAIR, "John Simpson", "chair", None),
    (SECRETARIAT, "David MacKintosh", "secretariat", "Community Safety Team"),
    (COLP, "Rob Ellis", "member", "City of London Police"),
    (CHILDREN, "Chris Pelham", "member", "Children and Communities"),
    (OBSERVER, "Home Office observer", "observer", None),
)
JOURNEYS = (
    (
        "The secretariat sets when the Board meets",
        SECRETARIAT,
        '/soc meeting schedule "second tuesday 10:00"',
    ),
    ("Rob Ellis (City of London Police) checks his actions", COLP, "/soc action status"),
    (
        "…and updates the profiles dashboard",
        COLP,
        '/soc action update A-1 rag=green due=31/03/2027 note="Draft shared with partners"',
    ),
    ("…then looks at it in full", COLP, "/soc action status A-1"),
    ("The observer tries to change a rating (refused)", OBSERVER, "/soc action update A-9 rag=red"),
    (
        "Chris Pelham marks a Home visits update",
        CHILDREN,
        "/soc action note A-7 Vulnerable People Steering Group agreed joint visits from March",
    ),
    ("The chairman posts the RAG summary", CHAIR, "/soc rag"),
    (
        "The secretariat asks every partner which key crime areas matter to it",
        SECRETARIAT,
        "/soc priorities open",
    ),
    (
        "Rob Ellis answers for the City of London Police",
        COLP,
        '/soc priorities answer cyber=lead fraud=lead "financial crime"=contribute '
        'note="Fraud and cyber crime against City businesses"',
    ),
    ("The chairman reads the results so far", CHAIR, "/soc priorities results private"),
)


def run_demo(db_path: Path, out=sys.stdout) -> int:
    """Build the demo Board and play the three journeys; returns the exit code."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    settings = Settings(database_url=f"sqlite:///{db_path}")
    engine = make_engine(settings.database_url)
    upgrade(engine)
    now = datetime.now(UTC)
    # The register was last reviewed at the Board's last monthly meeting (second Tuesday).
    last = _last_second_tuesday(now)
    result, _ = import_file(
        engine, settings, ANNEX_B, now=last - timedelta(days=14), partners=PARTNERS
    )
    with session_scope(engine) as session:
        board = get_board(session=session, slug=settings.board_slug)
        add_meeting(session=session, board_id=board.id, starts_at=last)
        for user_id, name, role, partner in DEMO_MEMBERS:
            options = {"name": name, "role": role, **({"partner": partner} if partner else {})}
            set_member(session, board, user_id, options)
    print(
        f"soc-bot demo: {len(result.created)} actions from Annex B (data/annex_b.csv) loaded "
        f"into {db_path}.",
        file=out,
    )
    console = Console(engine, settings, COLP)
    for title, user_id, line in JOURNEYS:
        console.user_id = user_id
        print(f"\n──── {title}\n{user_id}> {line}", file=out)
        print(console.run_line(line), file=out)
    _reminder_journey(engine, settings, now, out)
    print(
        f"\nContinue by hand:  DATABASE_URL=sqlite:///{db_path} .venv/bin/soc-bot console --as "
        f"{COLP}\n(switch person with /as {CHAIR}; people: "
        + ", ".join(f"{u} {n}" for u, n, _, _ in DEMO_MEMBERS)
        + ")\nConnect Slack: see “Run it in Slack” in README.md.",
        file=out,
    )
    engine.dispose()
    return 0


def _last_second_tuesday(now: datetime) -> datetime:
    """The most recent second Tuesday of a month at 10:00 London time, as UTC."""
    london = ZoneInfo("Europe/London")
    start = (now.astimezone(london) - timedelta(days=70)).replace(tzinfo=None)
    rule = rrule(MONTHLY, byweekday=TU(2), byhour=10, byminute=0, bysecond=0, dtstart=start)
    local = rule.before(now.astimezone(london).replace(tzinfo=None))
    return local.replace(tzinfo=london).astimezone(UTC)


def _reminder_journey(engine, settings: Settings, now: datetime, out) -> None:
    """What the worker will send at the next meeting's next reminder point (nothing is sent)."""
    from bot.plain_text import render_text
    from handlers.meetings.commands import reminder_config
    from handlers.meetings.reminder_messages import when
    from handlers.meetings.reminders import plan_reminders
    from models.ledger import REMINDER
    from models.meetings import next_meeting

    with session_scope(engine) as session:
        board = get_board(session=session, slug=settings.board_slug)
        meeting = next_meeting(session=session, board_id=board.id, now=now)
        config = reminder_config(board)
        points = config.points(meeting)
        point = next((p for p in points if p.at > now), points[-1])
        plan = plan_reminders(session, board, point.at)
    zone = config.tz
    user_ids = {name: user_id for user_id, name, _, _ in DEMO_MEMBERS}
    messages = {
        user_ids.get(d.send_to.display_name, d.send_to.display_name): d
        for d in plan.deliveries
        if d.key.kind == REMINDER
    }
    print(
        f"\n──── Before the meeting on {when(meeting.starts_at, zone)} the worker DMs each "
        f"lead partner at {when(point.at, zone)}; Rob Ellis reads:\n"
        f'(soc-bot remind --as-of "{point.at.astimezone(zone):%d/%m/%Y %H:%M}" --dry-run '
        "shows them all)",
        file=out,
    )
    if COLP in messages and messages[COLP].reply:
        print(render_text(messages[COLP].reply, zone), file=out)
    others = [d for user, d in sorted(messages.items()) if user != COLP and d.reply]
    print(
        "Also: "
        + "; ".join(f"{d.send_to.display_name}, {d.action_count} actions" for d in others)
        + ". The chair, deputy and secretariat get a digest at the last reminder point.",
        file=out,
    )
