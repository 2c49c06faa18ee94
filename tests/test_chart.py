"""The RAG chart: a real PNG whose bars and trend add up to the register."""

from datetime import UTC, datetime

from sqlmodel import Session

from bot.files.chart import WIDTH_INCHES, draw_chart, render_png
from handlers.reports.snapshot import chart_data, take_snapshot
from models.actions import EVERYTHING, PUBLIC, areas_by_id, rag_as_at, rag_tally
from models.boards import get_board, get_or_create_board
from tests.conftest import LONDON, NOW
from tests.file_fixtures import png_size
from tests.report_scenario import AFTER_Q2, MARKER, MEETINGS, PEOPLE

pytest_plugins = ("tests.report_fixtures",)


def chart_at(engine, settings, at: datetime, *, public: bool):
    """The chart data for the Board at a moment."""
    with Session(engine) as session:
        board = get_board(session=session, slug=settings.board_slug)
        snap = take_snapshot(session, board, at=at, visibility=EVERYTHING, public=public, tz=LONDON)
        return chart_data(session, board, snap, tz=LONDON)


def register_by_area(engine, settings, visibility) -> dict[str, dict[str, int]]:
    """The register's RAG counts per area name, straight from SQL."""
    with Session(engine) as session:
        board = get_board(session=session, slug=settings.board_slug)
        names = {i: a.name for i, a in areas_by_id(session=session, board_id=board.id).items()}
        counts = rag_tally(session=session, board_id=board.id, visibility=visibility).by_area
    result: dict[str, dict[str, int]] = {}
    for (area_id, rag), n in counts.items():
        result.setdefault(names[area_id], {})[rag] = n
    return result


def nonzero(bars: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Bars without their zero segments."""
    return {area: {rag: n for rag, n in counts.items() if n} for area, counts in bars.items()}


def test_chart_is_a_png_of_the_stated_size(board_engine, settings):
    chart = chart_at(board_engine, settings, NOW, public=True)
    drawn = draw_chart(chart)
    assert png_size(drawn.png) == (drawn.width, drawn.height)
    assert drawn.width == WIDTH_INCHES * 100 and 500 < drawn.height < 1500
    assert 10_000 < len(drawn.png) < 1_000_000


def test_bars_drawn_match_the_register(board_engine, settings):
    chart = chart_at(board_engine, settings, NOW, public=True)
    drawn = draw_chart(chart)
    assert nonzero(drawn.bars) == register_by_area(board_engine, settings, PUBLIC)
    assert sum(sum(bar.values()) for bar in drawn.bars.values()) == 11
    assert drawn.trend == [("Now", {"red": 0, "amber": 9, "green": 0, "blue": 1, "none": 1})]


def test_bars_and_trend_after_a_quarter_of_changes(history, settings):
    chart = chart_at(history, settings, AFTER_Q2, public=False)
    drawn = draw_chart(chart)
    assert nonzero(drawn.bars) == register_by_area(history, settings, EVERYTHING)
    assert [label for label, _ in drawn.trend] == [
        "12 Jan 27",
        "9 Feb 27",
        "9 Mar 27",
        "13 Apr 27",
        "11 May 27",
        "8 Jun 27",
        "Now",
    ]
    with Session(history) as session:
        board = get_board(session=session, slug=settings.board_slug)
        for (label, counts), at in zip(drawn.trend, MEETINGS[:6], strict=False):
            then = rag_as_at(session=session, board_id=board.id, at=at)
            assert sum(counts.values()) == len(then), label
            assert counts["red"] == list(then.values()).count("red"), label


def test_public_chart_leaves_the_confidential_action_out_and_says_so(history, settings):
    chart = chart_at(history, settings, AFTER_Q2, public=True)
    drawn = draw_chart(chart)
    assert nonzero(drawn.bars) == register_by_area(history, settings, PUBLIC)
    assert chart.withheld == 1 and drawn.trend[-1][1]["red"] == 1
    assert MARKER.encode() not in drawn.png
    for name in PEOPLE:
        assert name.encode() not in drawn.png


def test_chart_of_an_empty_register_still_draws(engine, settings):
    with Session(engine) as session:
        get_or_create_board(session=session, slug=settings.board_slug, name="Empty Board", now=NOW)
        session.commit()
    chart = chart_at(engine, settings, datetime(2027, 1, 1, tzinfo=UTC), public=False)
    assert chart.areas == () and chart.total == 0
    assert png_size(render_png(chart))[0] == 1000
