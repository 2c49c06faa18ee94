"""Reminder selection: who gets which reminder at which point, given the register and `now`."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from handlers.meetings.reminder_status import reminder_status
from handlers.meetings.reminders import ReminderPlan, _Register, plan_reminders
from handlers.permissions import may_update, visibility_for
from models.actions import create_action, get_action
from models.boards import get_board, list_areas
from models.ledger import DIGEST, REMINDER, SENT, insert_new, new_row
from models.meetings import add_meeting
from models.people import find_partner, list_members, list_partners
from models.tables import Action, Member, Rag
from tests.conftest import (
    CHAIR,
    COLP,
    DEPUTY,
    IMPORTED_AT,
    LONDON,
    NOW,
    OBSERVER,
    SECRETARIAT,
    TRADING,
    member_id,
    slack_id,
)
from tests.worker_fixtures import CONTACTS, FIVE_DAYS, ONE_DAY

MEETING = datetime(2027, 2, 9, 10, 0, tzinfo=UTC)
LAST_MEETING = IMPORTED_AT + timedelta(days=5)  # Thu 7 Jan 2027
ADMINS = {CHAIR, DEPUTY, SECRETARIAT}


@pytest.fixture
def board(console):
    """The test Board with the second-Tuesday rule; `console` acts as the secretariat."""
    console.as_user(SECRETARIAT)
    assert not console.ask('meeting schedule "second tuesday 10:00"').error
    return console


def plan_at(engine, now: datetime) -> ReminderPlan:
    """The reminder plan at `now`."""
    with Session(engine, expire_on_commit=False) as session:
        board = get_board(session=session, slug="soc")
        return plan_reminders(session, board, now)


def to(plan: ReminderPlan, kind: str = REMINDER) -> dict[str, object]:
    """Deliveries of one kind by the Slack user whose message it is."""
    return {slack_id(d.recipient): d for d in plan.deliveries if d.key.kind == kind}


def refs(delivery) -> list[str]:
    """References listed in a delivery's message."""
    return [item.ref for item in delivery.reply.items] if delivery.reply else []


def with_session(engine, work):
    """Run `work(session, board)` and commit."""
    with Session(engine, expire_on_commit=False) as session:
        board = get_board(session=session, slug="soc")
        result = work(session, board)
        session.commit()
        return result


def record_last_meeting(engine) -> None:
    """A Board meeting on Thu 7 Jan 2027, after the import: every imported action is stale."""
    with_session(engine, lambda s, b: add_meeting(session=s, board_id=b.id, starts_at=LAST_MEETING))


def add_action(engine, lead: str, *, due: date | None = None, rag=Rag.AMBER, **fields) -> str:
    """A new action led by `lead`, created at NOW; its reference."""

    def work(session, board):
        partner = find_partner(session=session, board_id=board.id, text=lead)
        area = list_areas(session=session, board_id=board.id)[0]
        action = create_action(
            session=session,
            board_id=board.id,
            area_id=area.id,
            now=NOW,
            actor=None,
            issue=fields.pop("issue", "New work"),
            rag=rag.value,
            due_date=due,
            lead_ids=[partner.id],
            **fields,
        )
        return action.ref

    return with_session(engine, work)


# --- when -------------------------------------------------------------------------------------


def test_nothing_is_due_before_the_first_point(board):
    plan = plan_at(board.engine, FIVE_DAYS - timedelta(seconds=1))
    assert plan.deliveries == [] and plan.superseded == [] and plan.due == {}


def test_every_lead_partner_contact_is_considered_at_the_first_point(board):
    plan = plan_at(board.engine, FIVE_DAYS)
    assert [p.days_before for p in plan.due.values()] == [5]
    assert set(to(plan)) == CONTACTS  # not the chair, deputy or observer: no partner
    assert to(plan, DIGEST) == {}  # the digest comes at the last point only
    assert plan.superseded == []


def test_the_last_point_brings_the_digest_for_chair_deputy_and_secretariat(board):
    plan = plan_at(board.engine, ONE_DAY)
    assert set(to(plan, DIGEST)) == ADMINS
    assert set(to(plan)) == CONTACTS


def test_a_worker_down_through_several_points_sends_only_the_latest(board):
    plan = plan_at(board.engine, ONE_DAY + timedelta(hours=3))
    assert [p.days_before for p in plan.due.values()] == [1]
    assert {d.key.point for d in plan.deliveries} == {"2027-02-08"}
    superseded = {(slack_id(d.recipient), d.key.point) for d in plan.superseded}
    assert superseded == {(user, "2027-02-02") for user in CONTACTS}


def test_points_already_in_the_ledger_are_not_superseded_again(board):
    plan = plan_at(board.engine, FIVE_DAYS)
    settle(board.engine, plan)
    later = plan_at(board.engine, ONE_DAY)
    assert later.superseded == []


def test_nothing_once_the_meeting_has_started_or_if_it_is_cancelled(board):
    assert plan_at(board.engine, MEETING).deliveries == []
    assert not board.ask("meeting cancel 9/2/2027").error
    assert plan_at(board.engine, ONE_DAY).deliveries == []


def test_a_moved_meeting_is_reminded_before_its_new_date(board):
    assert not board.ask("meeting move 9/2/2027 to 16/2/2027 10:00").error
    assert plan_at(board.engine, FIVE_DAYS).deliveries == []
    plan = plan_at(board.engine, datetime(2027, 2, 9, 9, tzinfo=UTC))
    assert {d.key.point for d in plan.deliveries} == {"2027-02-09"}


def test_points_are_at_nine_london_time_in_summer_too(board):
    # 13 April 2027 (BST): 5 working days before is Tue 6 April, after Easter Monday.
    before = plan_at(board.engine, datetime(2027, 4, 6, 7, 59, tzinfo=UTC))
    assert all(m.days_before != 5 for m in before.due.values())
    plan = plan_at(board.engine, datetime(2027, 4, 6, 8, 0, tzinfo=UTC))
    assert [(p.key, p.days_before) for p in plan.due.values()] == [("2027-04-06", 5)]


# --- what --------------------------------------------------------------------------------------


def test_without_a_last_meeting_undated_open_actions_are_due_at_this_one(board):
    plan = plan_at(board.engine, FIVE_DAYS)
    colp = to(plan)[COLP]
    assert refs(colp) == ["A-1", "A-2", "A-3", "A-5", "A-6", "A-7", "A-8", "A-9", "A-11"]
    assert "A-4" not in refs(to(plan)[SECRETARIAT])  # Blue: complete
    assert refs(to(plan)[TRADING]) == ["A-2", "A-3", "A-5", "A-6", "A-8"]  # "All partners"
    why = next(f.value for f in colp.reply.items[0].facts if f.label == "Why")
    assert why == "No due date, so due at this meeting"
    assert (
        colp.reply.title == "Board meeting Tue 9 Feb 2027 10:00: 9 of your actions need an update"
    )
    assert "5 working days away" in colp.reply.text


def test_each_action_shows_rag_last_update_and_buttons(board):
    item = to(plan_at(board.engine, FIVE_DAYS))[COLP].reply.items[0]
    assert item.rag == "amber"
    facts = {f.label: f.value for f in item.facts}
    assert facts["Last update"] == IMPORTED_AT
    assert facts["Due"] == "next Board meeting"
    assert facts["Lead"] == "City of London Police"
    assert item.operations == ("update", "done", "note")


def test_with_a_last_meeting_only_stale_overdue_and_due_actions_are_listed(board):
    record_last_meeting(board.engine)
    board.as_user(COLP)
    assert not board.ask('action update A-1 note="Shared the dashboard"').error  # fresh
    overdue = add_action(board.engine, "CoLP", due=date(2027, 1, 29), issue="Overdue work")
    due_soon = add_action(board.engine, "CoLP", due=date(2027, 2, 9), issue="Due at the meeting")
    add_action(board.engine, "CoLP", due=date(2027, 2, 10), issue="Due after the meeting")
    add_action(board.engine, "CoLP", due=date(2027, 1, 29), rag=Rag.BLUE, issue="Done early")
    add_action(board.engine, "CoLP", issue="New, no date, updated since the meeting")
    colp = to(plan_at(board.engine, FIVE_DAYS))[COLP]
    # Overdue first, then due by the meeting, then the stale ones in reference order.
    assert refs(colp) == [
        overdue,
        due_soon,
        "A-2",
        "A-3",
        "A-5",
        "A-6",
        "A-7",
        "A-8",
        "A-9",
        "A-11",
    ]
    whys = {i.ref: next(f.value for f in i.facts if f.label == "Why") for i in colp.reply.items}
    assert whys[overdue] == "Overdue (due Fri 29 Jan 2027)"
    assert whys[due_soon] == "Due Tue 9 Feb 2027, by this meeting"
    assert whys["A-2"] == "No update since the last meeting (Thu 7 Jan 2027)"


def test_nothing_to_report_means_no_message(board):
    record_last_meeting(board.engine)
    board.as_user(SECRETARIAT)
    for ref in ("A-2", "A-3", "A-5", "A-6", "A-8"):
        assert not board.ask(f"action note {ref} Reviewed").error
    plan = plan_at(board.engine, FIVE_DAYS)
    assert to(plan)[TRADING].reply is None
    assert to(plan)[TRADING].action_count == 0
    assert to(plan)[COLP].reply is not None


def test_a_long_list_is_cut_with_a_pointer_to_the_rest(board):
    for number in range(20):
        add_action(board.engine, "Trading Standards", due=date(2027, 2, 1), issue=f"Job {number}")
    reply = to(plan_at(board.engine, FIVE_DAYS))[TRADING].reply
    assert len(reply.items) == 10
    assert reply.title.endswith("25 of your actions need an update")
    assert "…and 15 more" in reply.hint


# --- to whom ---------------------------------------------------------------------------------


def test_an_away_member_with_a_deputy_has_it_sent_to_the_deputy(board):
    assert not board.ask(f"member add {COLP} away=yes deputy={TRADING}").error
    plan = plan_at(board.engine, FIVE_DAYS)
    colp = to(plan)[COLP]
    assert slack_id(colp.send_to) == TRADING
    assert colp.on_behalf_of == "Rob Ellis"
    assert colp.reply.notice == "Sent to you as deputy for Rob Ellis, who is away."
    # Trading Standards may not change CoLP's own actions: those come without buttons.
    ops = {item.ref: item.operations for item in colp.reply.items}
    assert ops["A-1"] == () and ops["A-2"] == ("update", "done", "note")
    assert slack_id(to(plan)[TRADING].send_to) == TRADING  # their own, separately


def test_an_away_member_without_a_deputy_still_gets_their_own(board):
    assert not board.ask(f"member add {COLP} away=yes").error
    assert slack_id(to(plan_at(board.engine, FIVE_DAYS))[COLP].send_to) == COLP


@pytest.mark.parametrize(
    "deputy, shown",
    [(None, True), (CHAIR, True), (TRADING, False), (OBSERVER, False)],
)
def test_confidential_actions_reach_only_those_entitled(board, deputy, shown):
    secret = add_action(
        board.engine, "CoLP", due=date(2027, 2, 1), confidential=True, issue="Covert operation"
    )
    if deputy:
        assert not board.ask(f"member add {COLP} away=yes deputy={deputy}").error
    colp = to(plan_at(board.engine, FIVE_DAYS))[COLP]
    assert (secret in refs(colp)) is shown
    if shown:
        item = next(i for i in colp.reply.items if i.ref == secret)
        assert item.title == "🔒 Covert operation"


def test_observers_never_get_reminders(board):
    assert not board.ask(f"member add {OBSERVER} partner=CoLP").error
    assert OBSERVER not in to(plan_at(board.engine, FIVE_DAYS))


# --- the digest ------------------------------------------------------------------------------


def test_the_digest_has_the_rag_summary_and_the_partners_without_updates(board):
    record_last_meeting(board.engine)
    board.as_user(COLP)
    assert not board.ask("action note A-1 Dashboard shared").error
    digest = to(plan_at(board.engine, ONE_DAY), DIGEST)[CHAIR].reply
    assert digest.title == "Digest for the Board meeting Tue 9 Feb 2027 10:00"
    assert "9 Amber" in digest.text
    headings = [s.heading for s in digest.sections]
    assert headings[:3] == [
        "Partners who have not updated since the last meeting",
        "By key crime area",
        "By 4P strand",
    ]
    stale = digest.sections[0].lines
    assert "City of London Police: 3 (A-7, A-9, A-11)" in stale  # A-1 was updated
    assert "All partners: 5 (A-2, A-3, A-5, A-6, A-8)" in stale


def test_the_digest_without_a_last_meeting_says_so(board):
    digest = to(plan_at(board.engine, ONE_DAY), DIGEST)[SECRETARIAT].reply
    assert digest.sections[0].lines == [
        "No previous meeting is recorded, so there is nothing to compare."
    ]


# --- the ledger --------------------------------------------------------------------------------


def settle(engine, plan: ReminderPlan, status: str = SENT) -> None:
    """Record every delivery of a plan in the ledger with `status`."""

    def work(session, board):
        rows = [new_row(d.key, board_id=board.id, status=status, now=NOW) for d in plan.deliveries]
        insert_new(session=session, rows=rows)

    with_session(engine, work)


def test_settled_messages_are_left_out(board):
    settle(board.engine, plan_at(board.engine, FIVE_DAYS))
    later = plan_at(board.engine, FIVE_DAYS + timedelta(hours=2))
    assert later.deliveries == []
    assert len(later.ledger) == len(CONTACTS)


def test_status_shows_each_point(board):
    settle(board.engine, plan_at(board.engine, FIVE_DAYS))
    reply = with_session(
        board.engine, lambda s, b: reminder_status(s, b, FIVE_DAYS + timedelta(hours=1))
    )
    meeting = reply.items[0]
    assert meeting.title == "Meeting Tue 9 Feb 2027 10:00"
    facts = {f.label: f.value for f in meeting.facts}
    assert facts == {
        "5 working days before, Tue 2 Feb 2027 09:00": "5 sent",
        "1 working day before, Mon 8 Feb 2027 09:00": "not yet due",
    }


# --- the register is read in a fixed number of queries -----------------------------------------


def count_queries(engine, now: datetime) -> int:
    """How many SQL statements one plan takes."""
    statements = []

    def record(*args) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        plan_at(engine, now)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements)


def test_queries_do_not_grow_with_actions_or_contacts(board):
    record_last_meeting(board.engine)
    small = count_queries(board.engine, ONE_DAY)
    for number in range(40):
        add_action(
            board.engine,
            ["CoLP", "Trading Standards", "NCA"][number % 3],
            due=date(2027, 2, 1),
            confidential=number % 5 == 0,
            issue=f"Job {number}",
        )
    for user in ("U0EXTRA1", "U0EXTRA2", "U0EXTRA3"):
        assert not board.ask(f'member add {user} name="Extra {user}" partner=CoLP').error
    assert count_queries(board.engine, ONE_DAY) == small


def test_the_registers_permission_shortcuts_agree_with_permissions(board):
    with Session(board.engine) as session:
        board_row = get_board(session=session, slug="soc")
        members = list_members(session=session, board_id=board_row.id)
        partners = list_partners(session=session, board_id=board_row.id)
        register = _Register(
            now=NOW,
            tz=LONDON,
            today=NOW.date(),
            last=None,
            members={m.id: m for m in members},
            collective=frozenset(p.id for p in partners if p.collective),
            partner_names={},
            by_partner={},
            leads={},
        )
        lead_sets = [{p.id} for p in partners] + [{partners[0].id, partners[-1].id}]
        for member in members:
            visibility = visibility_for(session, member)
            reader = register.reader(member)
            for leads in lead_sets:
                assert reader.may_update(leads) == may_update(session, member, leads)
                readable = visibility.all_confidential or bool(visibility.partner_ids & leads)
                assert reader.may_read_confidential(leads) == readable


def test_a_partner_without_a_contact_gets_nothing_and_breaks_nothing(board):
    ref = add_action(board.engine, "HMRC", due=date(2027, 1, 25))
    plan = plan_at(board.engine, FIVE_DAYS)
    assert all(ref not in refs(d) for d in plan.deliveries)
    with Session(board.engine) as session:
        board_row = get_board(session=session, slug="soc")
        assert get_action(session=session, board_id=board_row.id, number=int(ref[2:]))
        assert session.get(Member, member_id(session, COLP))
        assert session.exec(select(Action)).first()
