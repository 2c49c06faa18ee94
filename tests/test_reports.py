"""Report data: the quarterly activity report, the meeting pack and quarters, from the history."""

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session

from handlers.errors import CommandError
from handlers.replies import Delivery
from handlers.reports.papers import find_meeting, meeting_pack, quarterly_report, register_export
from handlers.reports.snapshot import ChartData
from handlers.text.quarters import parse_quarter, quarter
from models.actions import EVERYTHING
from models.boards import get_board
from tests.conftest import CHAIR, COLP, LONDON, NOW, OBSERVER, SECRETARIAT
from tests.report_scenario import (
    AFTER_Q2,
    BEFORE_JUNE_MEETING,
    MARKER,
    MEETINGS,
    PEOPLE,
    SECRET_TITLE,
)

pytest_plugins = ("tests.report_fixtures",)

Q2 = quarter(2027, 2, LONDON)


def counts(red=0, amber=0, green=0, blue=0, none=0) -> dict[str, int]:
    """A RAG tally."""
    return {"red": red, "amber": amber, "green": green, "blue": blue, "none": none}


def refs(lines) -> list[str]:
    """The references of some action lines."""
    return [line.ref for line in lines]


@pytest.fixture
def report_of(history, settings):
    """The Q2 report after the quarter, full or public."""

    def make(public: bool, period=Q2, now=AFTER_Q2):
        with Session(history) as session:
            board = get_board(session=session, slug=settings.board_slug)
            return quarterly_report(
                session, board, period, now=now, visibility=EVERYTHING, public=public, tz=LONDON
            )

    return make


@pytest.fixture
def pack_of(history, settings):
    """The pack for the June meeting, made the day before, full or public."""

    def make(public: bool):
        with Session(history) as session:
            board = get_board(session=session, slug=settings.board_slug)
            meeting = find_meeting(
                session, board, date(2027, 6, 8), now=BEFORE_JUNE_MEETING, tz=LONDON
            )
            return meeting_pack(
                session,
                board,
                meeting,
                now=BEFORE_JUNE_MEETING,
                visibility=EVERYTHING,
                public=public,
                tz=LONDON,
            )

    return make


# --- quarters ----------------------------------------------------------------------------------


def test_quarters_are_calendar_quarters_at_london_midnight():
    q2 = parse_quarter("2027Q2", today=date(2027, 7, 5), tz=LONDON)
    assert (q2.label, q2.code, q2.span) == ("2027 Q2", "2027Q2", "April to June 2027")
    assert q2.start == datetime(2027, 3, 31, 23, 0, tzinfo=UTC)  # BST began on 28 March
    assert q2.end == datetime(2027, 6, 30, 23, 0, tzinfo=UTC)
    assert (q2.first_day, q2.last_day) == (date(2027, 4, 1), date(2027, 6, 30))


@pytest.mark.parametrize("text", ["2027q1", "2027-Q1", "Q1 2027", "q1-2027"])
def test_quarter_spellings(text):
    assert parse_quarter(text, today=date(2027, 5, 1), tz=LONDON).label == "2027 Q1"


def test_no_quarter_means_the_last_complete_one():
    assert parse_quarter("", today=date(2027, 1, 20), tz=LONDON).label == "2026 Q4"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2027Q3", "2027 Q3 has not started yet"),
        ("2027Q5", "is not a quarter"),
        ("spring", "is not a quarter"),
        ("1999Q1", "out of range"),
    ],
)
def test_bad_quarters_are_explained(text, message):
    with pytest.raises(CommandError) as err:
        parse_quarter(text, today=date(2027, 5, 1), tz=LONDON)
    assert message in err.value.message and err.value.hint


# --- the quarterly activity report -------------------------------------------------------------


def test_quarterly_report_counts_and_movement_since_the_previous_quarter(report_of):
    report = report_of(public=False)
    assert report.previous.label == "2027 Q1"
    assert report.as_at == Q2.end
    assert report.counts_before == counts(amber=9, blue=1, none=1)
    assert report.counts == counts(red=2, amber=6, blue=3, none=1)
    assert [(m.action.ref, m.before, m.after) for m in report.moves] == [
        ("A-1", "amber", "red"),
        ("A-9", "amber", "blue"),
        ("A-11", "amber", "blue"),
    ]
    assert refs(report.completed) == ["A-9", "A-11"]
    assert refs(report.new) == ["A-12"]
    assert report.as_at_text == "the end of 2027 Q2 (Wed 30 Jun 2027)"


def test_quarterly_report_exceptions_carry_barriers_and_the_latest_note(report_of):
    report = report_of(public=False)
    assert refs(report.red) == ["A-1", "A-12"]
    a1 = report.red[0]
    assert a1.barriers == "Analyst post vacant"
    assert a1.latest_note == "Rob Ellis met Jane Anson: no analyst until June"
    assert a1.latest_note_by == "Rob Ellis"
    assert refs(report.overdue) == ["A-12"]
    assert refs(report.not_updated) == ["A-2", "A-3", "A-5", "A-6", "A-8", "A-10"]


def test_quarterly_report_by_area_strand_and_partner(report_of):
    report = report_of(public=False)
    areas = {g.name: g.counts for g in report.by_area}
    assert areas["Cyber attack"] == counts(red=1, amber=2)
    assert areas["Financial crime and money laundering"] == counts(blue=1)
    assert sum(g.total for g in report.by_area) == 12
    strands = {g.name: g.total for g in report.by_strand}
    assert strands["Pursue"] == 1 and strands["No strand set"] == 11
    partners = {p.partner: (p.open, p.overdue, p.not_updated) for p in report.by_partner}
    assert partners["City of London Police"] == (3, 1, 0)
    assert partners["All partners"] == (5, 0, 5)
    assert "Chairman and Deputy Chairman" in partners  # official names, never the alias


def test_public_report_withholds_confidential_actions_but_counts_them(report_of):
    report = report_of(public=True)
    assert report.withheld == 1
    assert report.counts == counts(red=1, amber=6, blue=3, none=1)
    assert refs(report.new) == [] and refs(report.red) == ["A-1"]
    assert {p.partner: p.open for p in report.by_partner}["City of London Police"] == 2
    assert report.chart.withheld == 1 and report.chart.total == 11


def test_public_report_names_no_one(report_of):
    report = report_of(public=True)
    a1 = report.red[0]
    assert a1.latest_note == "[name removed] met [name removed]: no analyst until June"
    assert a1.latest_note_by == ""
    text = repr(report)
    assert MARKER not in text
    for name in PEOPLE:
        assert name not in text, name


def test_a_running_quarter_is_reported_to_date(report_of):
    report = report_of(public=False, period=Q2, now=datetime(2027, 5, 2, 12, tzinfo=UTC))
    assert report.as_at == datetime(2027, 5, 2, 12, tzinfo=UTC)
    assert refs(report.completed) == ["A-9"]
    assert report.as_at_text == "Sun 2 May 2027"
    assert report.chart.trend[-1].label == "Now"


def test_trend_counts_are_the_ratings_at_each_meeting(report_of):
    trend = report_of(public=False).chart.trend
    assert [p.at for p in trend[:-1]] == MEETINGS[:6]
    assert trend[0].counts == counts(amber=9, blue=1, none=1)
    assert trend[4].counts == counts(red=2, amber=7, blue=2, none=1)  # 11 May
    assert trend[-1].label == "End 2027 Q2"
    public_trend = report_of(public=True).chart.trend
    assert public_trend[4].counts == counts(red=1, amber=7, blue=2, none=1)


# --- the meeting pack --------------------------------------------------------------------------


def test_meeting_pack_proposes_for_closure_what_turned_blue_since_the_last_meeting(pack_of):
    pack = pack_of(public=False)
    assert pack.meeting_at == MEETINGS[5] and pack.last_meeting_at == MEETINGS[4]
    assert refs(pack.proposed_for_closure) == ["A-11"]
    assert [(m.action.ref, m.before, m.after) for m in pack.moves] == [("A-11", "amber", "blue")]
    assert refs(pack.new) == []
    assert [(u.action.ref, u.note) for u in pack.updates] == [
        ("A-11", "Bag campaign launched"),
        ("A-7", "Visits booked with the fire brigade"),
    ]
    assert pack.updates[0].what == "rag: amber → blue" and pack.updates[1].by == "Jane Anson"


def test_meeting_pack_exceptions(pack_of):
    pack = pack_of(public=False)
    assert refs(pack.red) == ["A-1", "A-12"]
    assert refs(pack.overdue) == ["A-12"]
    assert refs(pack.not_updated) == ["A-1", "A-2", "A-3", "A-5", "A-6", "A-8", "A-10", "A-12"]
    public = pack_of(public=True)
    assert refs(public.red) == ["A-1"] and public.withheld == 1
    assert all(u.by == "" for u in public.updates)


def test_meeting_pack_needs_a_recorded_meeting(history, settings):
    with Session(history) as session:
        board = get_board(session=session, slug=settings.board_slug)
        with pytest.raises(CommandError) as err:
            find_meeting(session, board, date(2027, 6, 9), now=BEFORE_JUNE_MEETING, tz=LONDON)
        assert err.value.message == "No Board meeting is recorded on Wed 9 Jun 2027."
        found = find_meeting(session, board, None, now=BEFORE_JUNE_MEETING, tz=LONDON)
        assert found.starts_at == MEETINGS[5]


def test_public_register_export_drops_confidential_rows(history, settings):
    with Session(history) as session:
        board = get_board(session=session, slug=settings.board_slug)
        full = register_export(session, board, now=AFTER_Q2, public=False)
        public = register_export(session, board, now=AFTER_Q2, public=True)
    assert len(full.records) == 12 and full.withheld == 0
    assert len(public.records) == 11 and public.withheld == 1
    assert MARKER not in repr(public.records)
    assert SECRET_TITLE in repr(full.records)


# --- /soc rag chart and /soc report quarter ----------------------------------------------------


def test_rag_chart_posts_the_summary_with_the_chart_in_the_channel(console):
    reply = console.as_user(CHAIR).ask("rag chart")
    assert not reply.error and reply.audience == "in_channel"
    assert reply.title == "RAG summary"
    [chart] = reply.files
    assert (chart.filename, chart.format, chart.delivery) == (
        "rag-chart-2027-01-20.png",
        "png",
        Delivery.CHANNEL,
    )
    assert isinstance(chart.document, ChartData)
    assert chart.document.total == 11 and chart.document.as_at == NOW
    assert "soc-bot report chart" in reply.text  # the console cannot show a picture


def test_rag_chart_counts_only_what_the_channel_may_see(console):
    add = 'action add area=cyber lead=CoLP title="Closed matter" confidential=yes rag=red'
    assert not console.as_user(SECRETARIAT).ask(add).error
    chart = console.as_user(CHAIR).ask("rag chart").files[0].document
    assert chart.total == 11 and chart.withheld == 1


def test_rag_chart_is_for_the_chair_deputy_and_secretariat(console):
    reply = console.as_user(COLP).ask("rag chart")
    assert reply.error and reply.title.startswith("Only the chair, deputy chair or secretariat")
    assert reply.files == []
    assert console.as_user(CHAIR).ask("rag chart please").error


def test_report_quarter_sends_the_report_by_direct_message(console):
    reply = console.as_user(SECRETARIAT).ask("report quarter 2027Q1")
    assert not reply.error, reply.title
    assert reply.title == "Quarterly activity report, 2027 Q1"
    assert reply.audience == "ephemeral"
    [paper] = reply.files
    assert paper.delivery == Delivery.DIRECT
    assert paper.filename == "quarterly-report-2027-q1.docx"
    assert paper.document.title == "Quarterly activity report: 2027 Q1"
    assert "soc-bot report quarterly --quarter 2027Q1 --format docx" in reply.notice
    assert "11 actions" in reply.text


def test_report_quarter_public_and_other_formats(console):
    reply = console.as_user(CHAIR).ask("report quarter Q1 2027 public format=xlsx")
    assert reply.title == "Quarterly activity report, 2027 Q1 (public version)"
    assert reply.files[0].filename == "quarterly-report-2027-q1-public.xlsx"
    assert reply.files[0].document.public
    bad = console.as_user(CHAIR).ask("report quarter format=pdf")
    assert bad.error and "docx" in bad.hint


def test_report_quarter_refusals(console):
    assert console.as_user(OBSERVER).ask("report quarter").error
    assert console.as_user(COLP).ask("report quarter").title.startswith("Only the chair")
    future = console.as_user(SECRETARIAT).ask("report quarter 2027Q2")
    assert future.error and future.title.startswith("2027 Q2 has not started yet")
