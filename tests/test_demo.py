"""`soc-bot demo` (what `make demo` runs) plays the journeys on the real Annex B data."""

import io

from bot.cli.demo import run_demo


def test_demo_plays_every_journey_on_annex_b(tmp_path):
    out = io.StringIO()
    assert run_demo(tmp_path / "demo.db", out=out) == 0
    text = out.getvalue()
    assert "11 actions from Annex B" in text
    assert "The Board meets the second Tuesday of every month at 10:00" in text
    assert "Your partner's actions" in text and "A-1 [AMBER] Dashboard" in text
    assert "rag: amber → green" in text
    assert "You can't change A-9" in text  # the observer is refused
    assert "[posted in the channel]\nRAG summary" in text
    assert "Amber → Green" in text  # what changed since the last meeting
    assert "of your actions need an update" in text  # the reminder DM
    # The priorities exercise: opened, answered by a partner, its results.
    assert "Priorities exercise open until" in text
    assert "Recorded City of London Police's answer" in text
    assert "1 of 3 partners asked have answered" in text
    assert "Cyber attack: 1 lead (City of London Police)" in text
    assert "Traceback" not in text


def test_demo_starts_afresh_each_time(tmp_path):
    for _ in range(2):
        out = io.StringIO()
        assert run_demo(tmp_path / "demo.db", out=out) == 0
        assert "11 actions from Annex B" in out.getvalue()
