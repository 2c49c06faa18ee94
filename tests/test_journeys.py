"""The three user journeys through the console: status, an update, the chair's summary."""

from tests.conftest import CHAIR, OBSERVER


def test_partner_sees_their_partners_actions(console):
    reply = console.ask("action status")
    assert not reply.error
    assert reply.title == "Your partner's actions"
    refs = {item.ref for item in reply.items}
    assert "A-1" in refs  # CoLP leads the profiles dashboard
    assert "A-10" not in refs  # modern slavery has no lead partner


def test_partner_updates_their_action_and_history_records_it(console):
    reply = console.ask('action update A-1 rag=green note="Dashboard shared"')
    assert not reply.error, reply.title
    history = console.ask("action history A-1")
    text = "\n".join(f.value for s in history.sections for f in s.facts)
    assert "rag: amber → green" in text
    assert "Dashboard shared" in text


def test_chair_posts_rag_summary_in_channel(console):
    reply = console.as_user(CHAIR).ask("rag")
    assert reply.audience == "in_channel"
    assert "9 Amber" in reply.text


def test_observer_cannot_update(console):
    reply = console.as_user(OBSERVER).ask("action update A-1 rag=red")
    assert reply.error
    assert "can't change A-1" in reply.title
