"""The priorities exercise from the console: open, answer, results, set (report, para 14)."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.cli.console import Console
from handlers.priorities.answers import parse_answer
from handlers.replies import Audience, Reply
from models.tables import (
    CrimeArea,
    PriorityAnswer,
    PriorityDecision,
    PriorityExercise,
    PriorityStance,
)
from tests.conftest import (
    CHAIR,
    COLP,
    COOPTEE,
    DEPUTY,
    NOW,
    OBSERVER,
    SECRETARIAT,
    STRANGER,
    TRADING,
)
from tests.reply_fixtures import strings

GOVERNMENT_EIGHT = [
    "Cyber attack",
    "Fraud and cyber enabled crime",
    "Financial crime and money laundering",
    "Modern slavery and domestic servitude",
    "Organised acquisitive crime",
    "Vulnerable persons, including Child Sexual Exploitation",
    "Intellectual property",
    "Blackmail and kidnap",
]
CLOSES = "5/2/2027"  # a Friday; NOW is Wednesday 20 January 2027
AFTER_CLOSE = NOW + timedelta(days=17)  # Saturday 6 February 2027


def ask(console, user_id: str, text: str) -> Reply:
    """Run a command as someone."""
    return console.as_user(user_id).ask(text)


def ok(console, user_id: str, text: str) -> Reply:
    """Run a command that must succeed."""
    reply = ask(console, user_id, text)
    assert not reply.error, f"{text!r} as {user_id}: {reply.title} ({reply.hint})"
    return reply


def later(console, moment) -> Console:
    """The same Board, with the clock at `moment`."""
    return type(console)(console.engine, console.settings, console.user_id, clock=lambda: moment)


def rows(engine, table) -> list:
    """Every row of a table, oldest first."""
    with Session(engine) as session:
        return list(session.exec(select(table)))


@pytest.fixture
def exercise(console):
    """An exercise opened by the secretariat at NOW, closing Friday 5 February 2027."""
    ok(console, SECRETARIAT, f"priorities open closes={CLOSES}")
    return console


# --- opening --------------------------------------------------------------------------------------


def test_priorities_open_asks_each_partner_about_the_strategy_areas_and_the_boards_own(console):
    reply = ok(console, SECRETARIAT, f"priorities open closes={CLOSES}")
    assert reply.title == "Priorities exercise open until Fri 5 Feb 2027 (end of the day)"
    text = strings(reply)
    assert "Asking 4 partners about 9 key crime areas" in text
    for line in (
        "City of London Police: Rob Ellis",
        "Community Safety Team: David MacKintosh",
        "National Crime Agency: Nia Agent",
        "Trading Standards: Steve Playle",
    ):
        assert line in text
    areas = next(s for s in reply.sections if s.heading == "Areas").lines
    assert areas == ["Serious and Organised Crime Profiles", *GOVERNMENT_EIGHT]
    assert "Firearms" not in text  # the National Strategic Assessment list is background
    not_asked = next(s for s in reply.sections if s.heading.startswith("Not asked"))
    assert "London Fire Brigade" in not_asked.lines[0] and "All partners" not in not_asked.lines[0]
    assert "reminded Thu 4 Feb 2027 09:00" in text
    [row] = rows(console.engine, PriorityExercise)
    assert row.closes_on.isoformat() == "2027-02-05" and row.opened_by_name == "David MacKintosh"
    # Midnight after the closing day, London time (GMT in February).
    assert row.closes_at.isoformat() == "2027-02-06T00:00:00+00:00"


def test_a_current_priority_from_the_national_list_is_asked_about_too(console):
    ok(console, CHAIR, "priorities set firearms, cyber, fraud")
    reply = ok(console, SECRETARIAT, "priorities open")
    assert "Firearms" in next(s for s in reply.sections if s.heading == "Areas").lines


def test_the_default_closing_date_is_ten_working_days_ahead(console):
    reply = ok(console, CHAIR, "priorities open")
    assert reply.title == "Priorities exercise open until Wed 3 Feb 2027 (end of the day)"


def test_a_closing_date_in_the_past_is_refused(console):
    reply = ask(console, SECRETARIAT, "priorities open closes=19/1/2027")
    assert reply.error and reply.title == "The closing date, Tue 19 Jan 2027, is in the past."
    assert "closes=03/02/2027" in reply.hint
    assert ask(console, SECRETARIAT, "priorities open closes=31/2/2027").error
    assert rows(console.engine, PriorityExercise) == []


def test_an_exercise_closing_tomorrow_has_no_reminder(console):
    reply = ok(console, SECRETARIAT, "priorities open closes=21/1/2027")
    assert "None: it closes too soon" in strings(reply)
    assert rows(console.engine, PriorityExercise)[0].reminder_at is None


def test_an_exercise_already_open_is_refused_until_it_closes(exercise):
    reply = ask(exercise, DEPUTY, "priorities open")
    assert reply.error
    assert reply.title == (
        "A priorities exercise is already open, until Fri 5 Feb 2027 (end of the day)."
    )
    assert len(rows(exercise.engine, PriorityExercise)) == 1
    assert not later(exercise, AFTER_CLOSE).as_user(SECRETARIAT).ask("priorities open").error
    assert len(rows(exercise.engine, PriorityExercise)) == 2


def test_a_partner_member_cannot_open_an_exercise(console):
    reply = ask(console, COLP, "priorities open")
    assert reply.title.startswith("Only the chair, deputy chair or secretariat")


# --- answering ------------------------------------------------------------------------------------


def test_priorities_answer_records_the_partners_answer_and_note(exercise):
    reply = ok(exercise, COLP, 'priorities answer cyber=lead fraud=contribute note="Fraud first"')
    assert reply.title == "Recorded City of London Police's answer"
    text = strings(reply)
    assert "Cyber attack: Lead" in text and "Fraud and cyber enabled crime: Contribute" in text
    assert "Own priorities: Fraud first" in text
    assert "Blackmail and kidnap" in text  # listed as not answered yet
    [answer] = rows(exercise.engine, PriorityAnswer)
    assert (answer.version, answer.answered_by_name, answer.note) == (1, "Rob Ellis", "Fraud first")
    assert len(rows(exercise.engine, PriorityStance)) == 2


def test_a_priorities_note_with_personal_data_is_refused(exercise):
    reply = ask(exercise, COLP, 'priorities answer cyber=lead note="ring Mrs B on 07700 900123"')
    assert reply.error and "personal data" in reply.title
    assert rows(exercise.engine, PriorityAnswer) == []


@pytest.mark.parametrize(
    "text, area, stance",
    [
        ('priorities answer area="Cyber attack" lead', "Cyber attack", "Lead"),
        ("priorities answer area=slavery not relevant", "Modern slavery", "Not relevant"),
        ("priorities answer cyber=not relevant", "Cyber attack", "Not relevant"),
        ('priorities answer "Intellectual property"=contribute', "Intellectual property", "Cont"),
        ("priorities answer “blackmail”=n/a", "Blackmail and kidnap", "Not relevant"),
        ("priorities answer acquisitive=L", "Organised acquisitive crime", "Lead"),
    ],
)
def test_answers_can_be_typed_in_several_ways(exercise, text, area, stance):
    reply = ok(exercise, TRADING, text)
    assert any(
        f.label.startswith(area) and f.value.startswith(stance) for f in reply.sections[0].facts
    )


def test_a_later_answer_replaces_the_earlier_one_and_both_are_kept(exercise):
    ok(exercise, COLP, 'priorities answer cyber=lead fraud=contribute note="Fraud first"')
    second = ok(
        later(exercise, NOW + timedelta(days=1)), COLP, "priorities answer cyber=contribute"
    )
    assert "replaces the answer Rob Ellis gave on Wed 20 Jan 2027; both are kept" in second.text
    text = strings(second)
    # Areas left out keep their answer, and so does the note.
    assert (
        "Cyber attack: Contribute" in text and "Fraud and cyber enabled crime: Contribute" in text
    )
    assert "Own priorities: Fraud first" in text
    answers = sorted(rows(exercise.engine, PriorityAnswer), key=lambda a: a.version)
    assert [a.version for a in answers] == [1, 2]
    tally = strings(ok(exercise, CHAIR, "priorities results"))
    assert "Cyber attack: 1 contribute (City of London Police)" in tally
    assert "lead (City of London Police)" not in tally


def test_the_same_answer_again_changes_nothing(exercise):
    ok(exercise, COLP, "priorities answer cyber=lead")
    reply = ok(exercise, COLP, "priorities answer cyber=lead")
    assert reply.title == "That is already City of London Police's answer; nothing changed."
    assert len(rows(exercise.engine, PriorityAnswer)) == 1


def test_answers_after_closing_are_refused_with_the_closing_date(exercise):
    reply = later(exercise, AFTER_CLOSE).as_user(COLP).ask("priorities answer cyber=lead")
    assert reply.error
    assert reply.title == (
        "The priorities exercise closed on Fri 5 Feb 2027; answers are no longer taken."
    )
    # The closing day itself still counts, to its last minute.
    last_minute = NOW.replace(day=5, month=2, hour=23, minute=59)
    assert not later(exercise, last_minute).as_user(COLP).ask("priorities answer cyber=lead").error


def test_answering_without_an_exercise_is_refused(console):
    reply = ask(console, COLP, "priorities answer cyber=lead")
    assert reply.error and reply.title == "No priorities exercise is open."


def test_an_unknown_area_suggests_the_closest(exercise):
    reply = ask(exercise, COLP, "priorities answer cyberr=lead")
    assert reply.error and reply.title == "No key crime area called “cyberr”."
    assert "Cyber attack" in reply.hint
    reply = ask(exercise, COLP, "priorities answer firearms=lead")
    assert reply.title == "Firearms is not one of this exercise's areas."
    assert "Cyber attack" in reply.hint
    assert rows(exercise.engine, PriorityAnswer) == []


@pytest.mark.parametrize(
    "text, title",
    [
        ("priorities answer", "Say what your partner thinks of at least one key crime area."),
        ("priorities answer cyber=maybe", "“maybe” is not an answer for Cyber attack."),
        ("priorities answer cyber=", "No answer given for Cyber attack."),
        ("priorities answer lead", "“lead” is not an answer."),
        ("priorities answer area= lead", "Which key crime area?"),
        ("priorities answer cyber=lead cyber=contribute", "Cyber attack is given twice."),
        ('priorities answer note="a" note="b"', "note= is given twice."),
        ("priorities answer partner=CoLP,TS cyber=lead", "Answer for one partner at a time."),
        ('priorities answer cyber=lead note="', "A quotation mark is not closed."),
    ],
)
def test_bad_answers_are_explained_and_change_nothing(exercise, text, title):
    reply = ask(exercise, COLP, text)
    assert reply.error and reply.title == title
    assert rows(exercise.engine, PriorityAnswer) == []


def test_a_member_cannot_answer_for_a_partner_they_do_not_belong_to(exercise):
    reply = ask(exercise, COLP, "priorities answer partner=TS cyber=lead")
    assert reply.error
    assert reply.title == (
        "You can't answer for Trading Standards: you represent City of London Police."
    )
    assert ask(exercise, COLP, 'priorities answer partner="All partners" cyber=lead').error
    assert rows(exercise.engine, PriorityAnswer) == []


def test_the_secretariat_records_an_answer_for_any_partner(exercise):
    reply = ok(exercise, SECRETARIAT, "priorities answer partner=LFB cyber=contribute")
    assert reply.title == "Recorded London Fire Brigade's answer"
    [answer] = rows(exercise.engine, PriorityAnswer)
    assert answer.answered_by_name == "David MacKintosh"


def test_the_chair_without_a_partner_must_name_one(exercise):
    reply = ask(exercise, CHAIR, "priorities answer cyber=lead")
    assert reply.title == "Which partner are you answering for?"
    assert ok(exercise, CHAIR, "priorities answer partner=CoLP cyber=lead")


def test_observers_and_strangers_do_not_answer(exercise):
    assert ask(exercise, OBSERVER, "priorities answer cyber=lead").title == (
        "Observers don't answer the priorities exercise."
    )
    assert ask(exercise, STRANGER, "priorities answer cyber=lead").title.startswith(
        "You're not on this Board's member list"
    )


def test_the_deputy_of_an_away_member_answers_for_their_partner(console):
    ok(console, SECRETARIAT, f"member add {COLP} away=yes deputy={DEPUTY}")
    opened = ok(console, SECRETARIAT, "priorities open")
    assert "City of London Police: Rob Ellis, via their deputy Jon Avern" in strings(opened)
    reply = ok(console, DEPUTY, "priorities answer cyber=lead")
    assert reply.title == "Recorded City of London Police's answer"
    assert rows(console.engine, PriorityAnswer)[0].answered_by_name == "Jon Avern"


# --- status and results ---------------------------------------------------------------------------


def test_priorities_shows_the_boards_priorities_and_your_partners_answer(exercise):
    ok(exercise, COLP, 'priorities answer cyber=lead note="Fraud first"')
    reply = ok(exercise, COLP, "priorities")
    text = strings(reply)
    assert "None recorded yet." in text
    assert "Closes: Fri 5 Feb 2027 (end of the day)" in text
    assert "Answered: 1 of 4 partners asked" in text
    mine = next(s for s in reply.sections if s.heading.startswith("City of London Police's"))
    assert mine.heading == "City of London Police's answer, given by Rob Ellis"
    assert [(f.label, f.value) for f in mine.facts] == [
        ("Cyber attack", "Lead"),
        ("Own priorities", "Fraud first"),
    ]
    assert "Trading Standards has not answered yet." in strings(ok(exercise, TRADING, "priorities"))
    assert ask(exercise, COLP, "priorities now").error


def test_priorities_results_tallies_each_area_and_lists_who_has_not_answered(exercise):
    ok(exercise, COLP, 'priorities answer cyber=lead fraud=contribute note="Fraud first"')
    ok(exercise, TRADING, "priorities answer cyber=contribute fraud=lead acquisitive=lead")
    ok(exercise, COOPTEE, "priorities answer cyber=lead slavery=not-relevant")
    reply = ok(exercise, CHAIR, "priorities results")
    assert reply.audience == Audience.IN_CHANNEL
    assert reply.title == "Priorities exercise: results so far"
    assert reply.text.startswith("3 of 4 partners asked have answered.")
    facts = [(f.label, f.value) for f in reply.sections[0].facts]
    assert facts[:3] == [
        (
            "Cyber attack",
            "2 lead (City of London Police, National Crime Agency) · "
            "1 contribute (Trading Standards)",
        ),
        (
            "Fraud and cyber enabled crime",
            "1 lead (Trading Standards) · 1 contribute (City of London Police)",
        ),
        ("Organised acquisitive crime", "1 lead (Trading Standards)"),
    ]
    assert ("Modern slavery and domestic servitude", "1 not relevant") in facts
    text = strings(reply)
    assert "Community Safety Team (David MacKintosh)." in text
    assert "City of London Police: Fraud first" in text
    assert reply.files == []  # the chart is for Slack
    member = ok(exercise, COLP, "priorities results")
    assert member.audience == Audience.EPHEMERAL
    assert "The chair, deputy or secretariat can post it." in member.notice
    assert ok(exercise, SECRETARIAT, "priorities results private").audience == Audience.EPHEMERAL
    assert ask(exercise, CHAIR, "priorities results everything").error


def test_results_after_closing_say_who_did_not_answer(exercise):
    ok(exercise, COLP, "priorities answer cyber=lead")
    reply = later(exercise, AFTER_CLOSE).as_user(CHAIR).ask("priorities results")
    assert reply.title == "Priorities exercise: results"
    assert "Closed Fri 5 Feb 2027." in reply.text
    assert any(s.heading == "Did not answer" for s in reply.sections)


def test_results_before_any_exercise(console):
    reply = ok(console, COLP, "priorities results")
    assert reply.title == "No priorities exercise has been run yet."


# --- the Board's decision ------------------------------------------------------------------------


def test_priorities_set_records_the_boards_choice_and_puts_it_first(exercise):
    reply = ok(exercise, CHAIR, 'priorities set cyber, fraud, "financial crime", "slavery"')
    assert reply.audience == Audience.IN_CHANNEL
    assert reply.title == (
        "The Board's priorities are now: Cyber attack; Fraud and cyber enabled crime; "
        "Financial crime and money laundering; Modern slavery and domestic servitude"
    )
    assert "Recorded by John Simpson." in reply.text
    assert "still open until Fri 5 Feb 2027" in reply.notice
    [decision] = rows(exercise.engine, PriorityDecision)
    assert decision.decided_by_name == "John Simpson" and decision.decided_at == NOW
    assert decision.area_names.split("|")[0] == "Cyber attack"
    flagged = {a.name for a in rows(exercise.engine, CrimeArea) if a.priority}
    assert flagged == {
        "Cyber attack",
        "Fraud and cyber enabled crime",
        "Financial crime and money laundering",
        "Modern slavery and domestic servitude",
    }
    # Summaries and listings put them first.
    summary = ok(exercise, CHAIR, "rag")
    by_area = next(s for s in summary.sections if s.heading == "By key crime area")
    assert by_area.facts[0].label == "★ Cyber attack"
    assert [f.label for f in by_area.facts[:3]] == [
        "★ Cyber attack",
        "★ Fraud and cyber enabled crime",
        "★ Financial crime and money laundering",
    ]
    listed = ok(exercise, COLP, "area list").sections[0].facts
    assert [f.label.startswith("★") for f in listed[:5]] == [True] * 4 + [False]
    status = strings(ok(exercise, COLP, "priorities"))
    assert "★ Modern slavery and domestic servitude" in status
    assert "Recorded by: John Simpson" in status


def test_a_new_choice_replaces_the_old_one_and_none_clears_it(console):
    ok(console, SECRETARIAT, "priorities set cyber, fraud, slavery")
    reply = ok(console, CHAIR, "priorities set cyber, fraud")
    assert reply.notice == "That is 2; the Board aims for three or four (report, para 14)."
    assert {a.name for a in rows(console.engine, CrimeArea) if a.priority} == {
        "Cyber attack",
        "Fraud and cyber enabled crime",
    }
    assert ok(console, CHAIR, "priorities set none").title == "The Board's priorities are cleared"
    assert not any(a.priority for a in rows(console.engine, CrimeArea))
    assert len(rows(console.engine, PriorityDecision)) == 3


def test_priorities_set_refuses_unknown_areas_and_the_deputy(console):
    reply = ask(console, CHAIR, "priorities set fraud, cyber atack")
    assert reply.error and reply.title == "No key crime area called “cyber atack”."
    assert reply.hint.startswith("Did you mean “Cyber attack”")
    assert ask(console, CHAIR, "priorities set").title.startswith("Name the key crime areas")
    refused = ask(console, DEPUTY, "priorities set cyber, fraud, slavery")
    assert refused.title == "Only the chair or the secretariat can record the Board's priorities."
    assert rows(console.engine, PriorityDecision) == []
    assert not any(a.priority for a in rows(console.engine, CrimeArea))


def test_parse_answer_keeps_pairs_note_and_partner():
    parsed = parse_answer('cyber=lead "modern slavery"=not relevant note="Ours: x=y" partner=TS')
    assert parsed.pairs == [("cyber", "lead"), ("modern slavery", "not relevant")]
    assert (parsed.note, parsed.partner) == ("Ours: x=y", "TS")
    with pytest.raises(Exception, match="is not an answer"):
        parse_answer('note="x" stray')
