"""Every `/soc` command, through the console, with the register checked afterwards."""

import sys
from datetime import date, datetime, timedelta

from sqlmodel import Session, func, select

from handlers.commands import COMMANDS
from handlers.register import actions as action_handlers
from handlers.replies import Reply
from models.boards import get_board, list_areas
from models.meetings import add_meeting
from models.people import find_member_by_identity, find_partner, list_partners
from models.tables import Action, ActionChange, Member, Role
from tests.conftest import CHAIR, COLP, IMPORTED_AT, NOW, OBSERVER, SECRETARIAT
from tests.reply_fixtures import strings

# Each command and the test below that exercises it (checked by the first test).
EXERCISED = {
    "help": "test_help_action_shows_every_action_command_in_full",
    "action status": "test_action_status_lists_the_callers_partners_actions",
    "action add": "test_action_add_puts_a_new_action_in_the_register",
    "action update": "test_update_rag_orange_is_stored_as_amber",
    "action edit": "test_action_edit_shows_the_action_and_the_update_command",
    "action done": "test_action_done_with_a_note_makes_it_blue",
    "action note": "test_action_note_is_recorded_and_counts_as_an_update",
    "action history": "test_action_history_lists_changes_newest_first",
    "rag": "test_rag_summary_shows_rag_moves_since_the_last_meeting",
    "area list": "test_area_list_shows_the_priorities_and_sources",
    "area add": "test_area_add_creates_a_board_area",
    "member add": "test_member_add_creates_then_updates_a_member",
    "member list": "test_member_list_shows_everyone",
    "partner add": "test_partner_add_with_aliases_is_found_by_alias",
    "partner list": "test_partner_list_shows_aliases_and_collective",
    "meeting schedule": "test_meeting_schedule_in_words_makes_a_years_meetings",
    "meeting next": "test_meeting_next_shows_when_the_reminders_go_out",
    "meeting list": "test_meeting_list_marks_a_cancelled_meeting",
    "meeting move": "test_meeting_move_takes_its_reminders_along",
    "meeting cancel": "test_meeting_cancel_says_which_meeting_is_next",
    "meeting add": "test_meeting_add_adds_a_meeting_outside_the_rule",
    "meeting reminders": "test_meeting_reminders_changes_the_reminder_times",
    "rag post": "test_rag_post_is_the_channel_summary_for_the_summary_channels",
    "rag chart": "test_rag_chart_is_the_channel_summary_with_the_chart_to_follow",
    "report quarter": "test_report_quarter_prepares_the_report_as_a_file",
    "priorities": "test_priorities_shows_the_boards_priorities",
    "priorities open": "test_priorities_open_asks_the_partners_with_a_member",
    "priorities answer": "test_priorities_answer_records_the_partners_answer",
    "priorities results": "test_priorities_results_tallies_the_answers",
    "priorities set": "test_priorities_set_records_the_boards_choice",
    "priorities close": "test_priorities_close_stops_the_answers",
    "priorities extend": "test_priorities_extend_moves_the_closing_day",
    "board": "test_board_shows_the_boards_settings_to_a_member",
    "board settings": "test_board_settings_changes_the_boards_settings",
    "board history": "test_board_history_lists_board_changes_newest_first",
}


def test_every_command_has_a_test():
    untested = {c.name for c in COMMANDS} - set(EXERCISED)
    assert not untested, f"add a test for {sorted(untested)} and name it in EXERCISED"
    assert set(EXERCISED) <= {c.name for c in COMMANDS}, "EXERCISED names a command that is gone"
    module = sys.modules[__name__]
    for name, test in EXERCISED.items():
        assert callable(getattr(module, test, None)), f"{name}: no test called {test}"


# --- helpers -----------------------------------------------------------------------------------


def action(engine, number: int) -> Action:
    """The action with this number, read fresh."""
    with Session(engine) as session:
        return session.exec(select(Action).where(Action.number == number)).one()


def changes_of(engine, number: int) -> list[ActionChange]:
    """The action's history rows, oldest first."""
    with Session(engine) as session:
        action_id = session.exec(select(Action.id).where(Action.number == number)).one()
        query = select(ActionChange).where(ActionChange.action_id == action_id)
        return list(session.exec(query.order_by(ActionChange.id)))


def change_count(engine) -> int:
    """All history rows."""
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(ActionChange)).one()


def refs(reply: Reply) -> list[str]:
    """References of the reply's items, in order."""
    return [item.ref for item in reply.items]


# --- help and the dispatcher -------------------------------------------------------------------


def test_empty_text_is_help(console):
    assert console.ask("   ").sections == console.ask("help").sections


def test_help_action_shows_every_action_command_in_full(console):
    reply = console.ask("help action")
    assert not reply.error
    labels = [f.label for s in reply.sections for f in s.facts]
    assert labels == [c.usage for c in COMMANDS if c.words[0] == "action"]
    assert len(labels) == 7


def test_help_on_an_unknown_topic_lists_the_topics(console):
    reply = console.ask("help biscuits")
    assert reply.error
    assert "action" in reply.hint and "member" in reply.hint


def test_unknown_command_suggests_the_closest(console):
    reply = console.ask("acton status")
    assert reply.error
    assert "`action status`" in reply.text


def test_topic_without_subcommand_lists_the_subcommands(console):
    reply = console.ask("member")
    assert reply.error
    assert "add" in reply.title and "list" in reply.title


# --- action status -----------------------------------------------------------------------------


def test_action_status_lists_the_callers_partners_actions(console):
    reply = console.ask("action status")
    assert reply.title == "Your partner's actions"
    # CoLP leads; "All partners" is collective so too.
    assert refs(reply) == ["A-1", "A-2", "A-3", "A-5", "A-6", "A-7", "A-8", "A-9", "A-11"]


def test_action_status_for_someone_without_a_partner_shows_everything(console):
    reply = console.as_user(CHAIR).ask("action status")
    assert len(refs(reply)) == 10
    assert reply.notice


def test_every_reference_form_finds_the_action(console):
    for form in ("A-11", "a11", "11", "#11", "a-11", "A-011"):
        reply = console.ask(f"action status {form}")
        assert not reply.error, (form, reply.title)
        assert refs(reply) == ["A-11"], form


def test_not_a_reference_is_explained(console):
    reply = console.ask("action status B-7")
    assert reply.error
    assert "A-12" in reply.hint


def test_action_and_a_number_is_shorthand_for_status(console):
    for text in ("action 3", "action A-3", "action #3"):
        reply = console.ask(text)
        assert not reply.error, text
        assert refs(reply) == ["A-3"], text
        assert reply.title.startswith("A-3:"), text


def test_paging_through_all_actions(console):
    first = console.ask("action status all")
    assert len(first.items) == action_handlers.PAGE_SIZE == 10
    assert first.page.number == 1 and first.page.pages == 2
    second = console.ask("action status all page 2")
    assert refs(second) == ["A-11"]
    assert second.page.number == 2


def test_a_page_past_the_end_is_an_error_with_a_hint(console):
    reply = console.ask("action status all page 3")
    assert reply.error
    assert "page 3" in reply.title
    assert "action status all page 2" in reply.hint


def test_page_zero_and_words_are_refused(console):
    assert console.ask("action status all page 0").error
    assert console.ask("action status all page two").error


def test_status_by_area_matches_a_word_or_prefix(console):
    for name in ("cyber", "Cyber", "cyber attack", "CYBER ATTACK"):
        reply = console.ask(f"action status area {name}")
        assert not reply.error, (name, reply.title)
        assert reply.title == "Actions: Cyber attack"
        assert refs(reply) == ["A-2", "A-3"]
    reply = console.ask("action status area slavery")
    assert refs(reply) == ["A-10"]


def test_unknown_area_suggests_the_closest_name(console):
    reply = console.ask("action status area cyber atack")
    assert reply.error
    assert "Cyber attack" in reply.hint


def test_status_by_partner_alias(console):
    reply = console.ask("action status partner colp")
    assert reply.title == "Actions led by City of London Police"
    assert refs(reply) == ["A-1", "A-7", "A-9", "A-11"]


def test_status_by_a_blank_partner_list_is_an_error(console):
    for text in ("action status partner ,", "action status partner , ,"):
        reply = console.ask(text)
        assert reply.error, text


def test_status_by_unknown_partner_suggests(console):
    reply = console.ask("action status partner Cty Police")
    assert reply.error
    assert "City Police" in reply.hint


def test_overdue_lists_actions_past_their_due_date(console):
    assert not console.ask("action status overdue").items
    assert not console.ask("action update A-1 due=10/01/2027").error  # before NOW (20 Jan)
    assert not console.ask("action update A-9 due=31/01/2027").error  # after NOW
    reply = console.ask("action status overdue")
    assert refs(reply) == ["A-1"]
    console.ask('action done A-1 note="Shared"')
    assert refs(console.ask("action status overdue")) == []


def test_unknown_listing_is_explained(console):
    reply = console.ask("action status everything now")
    assert reply.error
    assert "action status all" in reply.hint


# --- action add --------------------------------------------------------------------------------


def test_action_add_puts_a_new_action_in_the_register(console):
    reply = console.as_user(SECRETARIAT).ask(
        'action add area=cyber lead="CoLP, TS" title="Engage SMEs" due=31/03/2027 '
        "strand=pursue,protect rag=green"
    )
    assert not reply.error, reply.title
    assert reply.title == "Added A-12: Engage SMEs"
    added = action(console.engine, 12)
    assert added.issue == "Engage SMEs"
    assert added.rag == "green"
    assert added.due_date == date(2027, 3, 31)
    assert added.created_at == NOW
    assert [c.field for c in changes_of(console.engine, 12)][0] == "created"
    with Session(console.engine) as session:
        board = get_board(session=session, slug="soc")
        area = next(
            a for a in list_areas(session=session, board_id=board.id) if a.id == added.area_id
        )
        assert area.name == "Cyber attack"
    assert "A-12" in refs(console.ask("action status partner TS"))


def test_action_add_without_required_fields_names_them(console):
    reply = console.as_user(SECRETARIAT).ask('action add title="Half an action"')
    assert reply.error
    assert "area=" in reply.title and "lead=" in reply.title
    assert "title=" not in reply.title


def test_action_add_with_loose_words_is_refused(console):
    reply = console.as_user(SECRETARIAT).ask("action add Engage SMEs area=cyber lead=CoLP")
    assert reply.error
    assert "key=value" in reply.hint


# --- action update -----------------------------------------------------------------------------


def test_update_rag_orange_is_stored_as_amber(console):
    assert not console.ask("action update A-1 rag=red").error
    reply = console.ask("action update A-1 rag=orange")
    assert not reply.error
    assert action(console.engine, 1).rag == "amber"
    assert changes_of(console.engine, 1)[-1].new_value == "amber"


def test_update_rag_done_is_blue(console):
    assert not console.ask('action update A-1 rag=done note="Dashboard live"').error
    assert action(console.engine, 1).rag == "blue"


def test_closing_through_update_needs_the_outcome(console):
    reply = console.ask("action update A-1 rag=complete")
    assert reply.error and "achieved" in reply.title
    assert action(console.engine, 1).rag == "amber"


def test_due_dates_are_read_uk_style(console):
    assert not console.ask("action update A-1 due=01/02/2027").error
    assert action(console.engine, 1).due_date == date(2027, 2, 1)
    assert not console.ask("action update A-1 due=none").error
    assert action(console.engine, 1).due_date is None


def test_us_style_or_impossible_dates_say_which_forms_are_accepted(console):
    for value in ("12/25/2027", "31/02/2027", "soonish", "13/13/2027"):
        reply = console.ask(f"action update A-1 due={value}")
        assert reply.error, value
        assert "31/01/2027" in reply.title, value  # the accepted forms are listed
    assert action(console.engine, 1).due_date is None


def test_unknown_option_names_the_valid_options(console):
    reply = console.ask("action update A-1 foo=1")
    assert reply.error
    assert "foo=" in reply.title
    for option in ("rag=", "due=", "note=", "title="):
        assert option in reply.hint


def test_option_given_twice_is_refused(console):
    reply = console.ask("action update A-1 rag=red rag=green")
    assert reply.error
    assert action(console.engine, 1).rag == "amber"


def test_unclosed_quote_is_explained(console):
    reply = console.ask('action update A-1 title="Two words')
    assert reply.error
    assert "quotation mark" in reply.title
    assert action(console.engine, 1).issue.startswith("Dashboard")


def test_curly_quotes_from_slack_group_words(console):
    reply = console.ask("action update A-1 title=“Two words”")
    assert not reply.error, reply.title
    assert action(console.engine, 1).issue == "Two words"


def test_nothing_changed_is_an_error_and_records_nothing(console):
    before = change_count(console.engine)
    reply = console.ask("action update A-1 rag=amber")
    assert reply.error
    assert "Nothing changed" in reply.title
    assert change_count(console.engine) == before


def test_update_without_changes_is_explained(console):
    assert console.ask("action update A-1").error
    assert console.ask("action update rag=red").error


def test_partner_cannot_change_admin_fields(console):
    reply = console.ask("action update A-1 lead=CST")
    assert reply.error
    assert "lead" in reply.title
    assert console.as_user(SECRETARIAT).ask("action update A-1 lead=CST").error is False


def test_note_longer_than_the_history_keeps_is_refused(console):
    before = change_count(console.engine)
    for text in (
        f'action update A-1 rag=green note="{"x" * 4001}"',
        f'action done A-1 note="{"x" * 4001}"',
        f"action note A-1 {'x' * 4001}",
    ):
        reply = console.ask(text)
        assert reply.error, text[:30]
        assert "too long" in reply.title
    assert change_count(console.engine) == before
    assert action(console.engine, 1).rag == "amber"


def test_update_with_blank_title_is_refused(console):
    assert console.ask('action update A-1 title=""').error


# --- action done, note, history ----------------------------------------------------------------


def test_action_done_with_a_note_makes_it_blue(console):
    reply = console.ask('action done A-1 note="Dashboard live"')
    assert not reply.error, reply.title
    assert action(console.engine, 1).rag == "blue"
    last = changes_of(console.engine, 1)[-1]
    assert (last.field, last.old_value, last.new_value, last.note) == (
        "rag",
        "amber",
        "blue",
        "Dashboard live",
    )
    assert console.ask('action done A-1 note="again"').error  # already complete


def test_action_edit_shows_the_action_and_the_update_command(console):
    before = change_count(console.engine)
    reply = console.ask("action edit A-1")
    assert not reply.error, reply.title
    assert reply.title.startswith("Edit A-1: Dashboard of Serious and Organised Crime")
    assert refs(reply) == ["A-1"]
    assert "`action update A-1 rag=green" in reply.hint
    assert change_count(console.engine) == before
    assert console.ask("action edit").error
    assert "can't change A-10" in console.ask("action edit A-10").title


def test_action_done_without_a_note_is_refused_with_a_hint(console):
    before = change_count(console.engine)
    reply = console.ask("action done A-1")
    assert reply.error
    assert 'note="' in reply.hint
    assert action(console.engine, 1).rag == "amber"
    assert change_count(console.engine) == before


def test_action_note_is_recorded_and_counts_as_an_update(console):
    reply = console.ask("action note A-1 Met the NCA; report due in March")
    assert not reply.error, reply.title
    last = changes_of(console.engine, 1)[-1]
    assert (last.field, last.note) == ("note", "Met the NCA; report due in March")
    assert action(console.engine, 1).updated_at == NOW


def test_action_note_after_a_line_break_or_tab(console):
    for text in ("action note A-1\nMet the NCA\nReport due", "action note A-1\tTabbed on"):
        reply = console.ask(text)
        assert not reply.error, (text, reply.title)
    notes = [c.note for c in changes_of(console.engine, 1) if c.field == "note"]
    assert notes == ["Met the NCA\nReport due", "Tabbed on"]


def test_action_note_without_text_is_refused(console):
    assert console.ask("action note A-1").error
    assert console.ask("action note").error


def test_action_history_lists_changes_newest_first(console):
    console.ask("action update A-1 rag=red")
    console.ask('action update A-1 rag=green note="Better"')
    reply = console.ask("action history A-1")
    assert not reply.error
    lines = [f.value for s in reply.sections for f in s.facts]
    assert lines[0] == "rag: red → green — “Better”"
    assert lines[1] == "rag: amber → red"
    assert "created" in lines[-1]


def test_action_history_of_a_missing_action(console):
    reply = console.ask("action history A-99")
    assert reply.error
    assert reply.title == "There is no action A-99."


# --- rag ---------------------------------------------------------------------------------------


def record_meeting(engine, at: datetime) -> None:
    """A Board meeting at `at`."""
    with Session(engine) as session:
        board = get_board(session=session, slug="soc")
        add_meeting(session=session, board_id=board.id, starts_at=at)
        session.commit()


def test_rag_summary_shows_rag_moves_since_the_last_meeting(console):
    record_meeting(console.engine, IMPORTED_AT + timedelta(days=5))
    assert not console.ask("action update A-1 rag=green").error
    reply = console.as_user(CHAIR).ask("rag")
    since = next(s for s in reply.sections if s.heading == "Since the last meeting")
    assert any(line.startswith("A-1 ") and "Amber → Green" in line for line in since.lines)
    assert len([line for line in since.lines if "→" in line]) == 1


def test_rag_summary_lists_open_actions_not_updated_since_the_meeting(console):
    record_meeting(console.engine, IMPORTED_AT + timedelta(days=5))
    console.ask("action note A-1 Progress")
    reply = console.as_user(CHAIR).ask("rag")
    exceptions = next(s for s in reply.sections if s.heading == "Exceptions")
    line = next(x for x in exceptions.lines if x.startswith("Not updated since the last meeting"))
    assert "(9)" in line  # 11 actions, less A-4 (blue) and A-1 (updated)
    assert "A-1 " not in line and "A-4 " not in line
    for ref in ("A-2 ", "A-3 ", "A-11 "):
        assert ref in line


def test_rag_summary_without_a_meeting_says_so(console):
    reply = console.as_user(CHAIR).ask("rag")
    since = next(s for s in reply.sections if s.heading == "Since the last meeting")
    assert "No previous meeting" in since.lines[0]
    assert reply.audience == "in_channel"


def test_rag_counts_match_the_register(console):
    reply = console.ask("rag")
    assert reply.audience == "ephemeral"
    assert reply.text.startswith("11 actions: 9 Amber · 1 Blue · 1 Not rated.")
    by_area = next(s for s in reply.sections if s.heading == "By key crime area")
    assert "Cyber attack: 2 Amber" in [f"{f.label}: {f.value}" for f in by_area.facts]


def test_rag_private_keeps_the_chairs_summary_to_themselves(console):
    assert console.as_user(CHAIR).ask("rag private").audience == "ephemeral"


# --- areas, members, partners ------------------------------------------------------------------


def test_area_list_shows_the_priorities_and_sources(console):
    reply = console.ask("area list")
    facts = {f.label: f.value for s in reply.sections for f in s.facts}
    assert facts["Cyber attack"] == "Government SOC Strategy"
    assert facts["Drugs"] == "National Strategic Assessment"
    assert facts["Serious and Organised Crime Profiles"] == "Board"


def test_area_add_creates_a_board_area(console):
    reply = console.as_user(SECRETARIAT).ask('area add "Drugs supply lines"')
    assert not reply.error
    assert "Drugs supply lines" in strings(console.ask("area list"))
    again = console.as_user(SECRETARIAT).ask('area add "drugs supply lines"')
    assert again.title == "Key crime area: Drugs supply lines"  # the same area, not a second one
    with Session(console.engine) as session:
        board = get_board(session=session, slug="soc")
        names = [a.name.casefold() for a in list_areas(session=session, board_id=board.id)]
    assert names.count("drugs supply lines") == 1


def test_member_add_creates_then_updates_a_member(console):
    admin = console.as_user(SECRETARIAT)
    reply = admin.ask('member add <@UNEW123|amy> name="Amy New" role=member partner=TS')
    assert reply.title == "Added Amy New"
    reply = admin.ask("member add UNEW123 role=observer away=yes")
    assert reply.title == "Updated Amy New"
    with Session(console.engine) as session:
        board = get_board(session=session, slug="soc")
        member = find_member_by_identity(
            session=session, board_id=board.id, channel="slack", external_id="UNEW123"
        )
        assert (member.role, member.away) == (Role.OBSERVER, True)
        assert member.partner_id == find_partner(session=session, board_id=board.id, text="TS").id


def test_member_add_without_a_name_or_with_a_bad_role_is_refused(console):
    admin = console.as_user(SECRETARIAT)
    assert admin.ask("member add UNEW123 role=member").error
    reply = admin.ask('member add UNEW123 name="A" role=boss')
    assert reply.error
    assert "co-optee" in reply.hint


def test_member_list_shows_everyone(console):
    reply = console.ask("member list")
    with Session(console.engine) as session:
        total = session.exec(select(func.count()).select_from(Member)).one()
    assert len(reply.items) == total == 8
    rob = next(i for i in reply.items if i.title == "Rob Ellis")
    assert {f.label: f.value for f in rob.facts}["Partner"] == "City of London Police"


def test_partner_add_with_aliases_is_found_by_alias(console):
    admin = console.as_user(SECRETARIAT)
    reply = admin.ask('partner add "Port of London Authority" aliases="PLA, Port Authority"')
    assert not reply.error, reply.title
    with Session(console.engine) as session:
        board = get_board(session=session, slug="soc")
        assert find_partner(session=session, board_id=board.id, text="pla").name == (
            "Port of London Authority"
        )
    clash = admin.ask('partner add "Police Service" aliases="CoLP"')
    assert clash.error
    assert "City of London Police" in clash.title


def test_partner_add_with_overlong_aliases_is_refused(console):
    admin = console.as_user(SECRETARIAT)
    aliases = ", ".join(f"Alias number {n:04d} of many" for n in range(60))  # > 1,000 characters
    reply = admin.ask(f'partner add "Long Names Ltd" aliases="{aliases}"')
    assert reply.error
    with Session(console.engine) as session:
        board = get_board(session=session, slug="soc")
        names = [p.name for p in list_partners(session=session, board_id=board.id)]
    assert "Long Names Ltd" not in names


def test_partner_list_shows_aliases_and_collective(console):
    reply = console.ask("partner list")
    items = {i.title: {f.label: f.value for f in i.facts} for i in reply.items}
    assert "CoLP" in items["City of London Police"]["Also known as"]
    assert "Collective" in items["All partners"]
    assert "Collective" not in items["City of London Police"]


# --- meetings (more in test_meetings.py) -------------------------------------------------------


def scheduled(console):
    """The console with the Board meeting on the second Tuesday of each month at 10:00."""
    reply = console.as_user(SECRETARIAT).ask('meeting schedule "second tuesday 10:00"')
    assert not reply.error, reply.title
    return console


def test_meeting_schedule_in_words_makes_a_years_meetings(console):
    reply = console.as_user(SECRETARIAT).ask('meeting schedule "second tuesday 10:00"')
    assert reply.title == "The Board meets the second Tuesday of every month at 10:00"
    assert reply.text.startswith("12 meetings added")
    assert [i.title for i in reply.items][0] == "Tue 9 Feb 2027 10:00"


def test_meeting_next_shows_when_the_reminders_go_out(console):
    reply = scheduled(console).as_user(COLP).ask("meeting next")
    assert reply.title == "Next meeting: Tue 9 Feb 2027 10:00"
    text = strings(reply)
    assert "Reminder, 5 working days: Tue 2 Feb 2027 09:00" in text
    assert "Reminder, 1 working day + chair's digest: Mon 8 Feb 2027 09:00" in text


def test_meeting_list_marks_a_cancelled_meeting(console):
    assert not scheduled(console).ask("meeting cancel 9/3/2027").error
    titles = [i.title for i in console.as_user(COLP).ask("meeting list").items]
    assert titles[:3] == [
        "Tue 9 Feb 2027 10:00",
        "Cancelled: Tue 9 Mar 2027 10:00",
        "Tue 13 Apr 2027 10:00",
    ]


def test_meeting_move_takes_its_reminders_along(console):
    reply = scheduled(console).ask("meeting move 9/2/2027 to 11/2/2027 14:00")
    assert reply.title == "Moved the meeting to Thu 11 Feb 2027 14:00"
    assert "Reminder, 5 working days: Thu 4 Feb 2027 09:00" in strings(reply)
    assert console.ask("meeting next").title == "Next meeting: Thu 11 Feb 2027 14:00"


def test_meeting_cancel_says_which_meeting_is_next(console):
    reply = scheduled(console).ask("meeting cancel 9/2/2027")
    assert reply.title == "Cancelled the meeting on Tue 9 Feb 2027 10:00"
    assert "The next meeting is Tue 9 Mar 2027 10:00." in reply.text


def test_meeting_add_adds_a_meeting_outside_the_rule(console):
    reply = scheduled(console).ask("meeting add 2/2/2027 15:00")
    assert reply.title == "Added a meeting on Tue 2 Feb 2027 15:00"
    assert "Scheduled: added by hand" in strings(reply)
    assert console.ask("meeting next").title == "Next meeting: Tue 2 Feb 2027 15:00"


def test_meeting_reminders_changes_the_reminder_times(console):
    reply = scheduled(console).ask("meeting reminders 3,1 at 08:30")
    assert reply.title == "Reminder times changed"
    assert "3, 1 working days before each meeting at 08:30" in reply.text
    assert "Reminder, 3 working days: Thu 4 Feb 2027 08:30" in strings(reply)
    assert console.as_user(COLP).ask("meeting reminders").title == "Reminder times"


# --- the Board's settings (more in test_board_settings.py) -------------------------------------


def test_board_shows_the_boards_settings_to_a_member(console):
    reply = scheduled(console).as_user(OBSERVER).ask("board")
    assert not reply.error, reply.title
    assert reply.title == "Serious and Organised Crime Partnership Board"
    facts = strings(reply)
    for line in (
        "Time zone: Europe/London",
        "Bank holidays: GB-ENG",
        "Reminders: 5 and 1 working days before each meeting, at 09:00",
        "Summary channels: none set",
        "Meetings: the second Tuesday of every month at 10:00",
    ):
        assert line in facts


def test_board_settings_changes_the_boards_settings(console):
    reply = console.as_user(SECRETARIAT).ask(
        'board settings name="Kent SOC Board" timezone=europe/dublin holidays=gb-nir '
        "reminders=3,1 at=8:30am summary=C0123,teams:19:abc@thread.tacv2"
    )
    assert not reply.error, reply.title
    assert reply.title == "Board settings changed"
    shown = strings(console.as_user(COLP).ask("board"))
    for line in (
        "Name: Kent SOC Board",
        "Time zone: Europe/Dublin",
        "Bank holidays: GB-NIR",
        "Reminders: 3 and 1 working days before each meeting, at 08:30",
        "Summary channels: slack:C0123, teams:19:abc@thread.tacv2",
    ):
        assert line in shown


def test_board_history_lists_board_changes_newest_first(console):
    assert not console.as_user(SECRETARIAT).ask('board settings name="Kent SOC Board"').error
    assert not console.as_user(SECRETARIAT).ask("board settings at=08:30").error
    shown = strings(console.as_user(CHAIR).ask("board history"))
    assert shown.index("settings: reminder time: 09:00 → 08:30") < shown.index(
        "settings: name: Serious and Organised Crime Partnership Board → Kent SOC Board"
    )


# --- reports (more in test_reports.py, test_reports_files.py and test_slack_uploads.py) ---------


def test_rag_chart_is_the_channel_summary_with_the_chart_to_follow(console):
    reply = console.as_user(CHAIR).ask("rag chart")
    assert reply.title == "RAG summary" and reply.audience == "in_channel"
    assert [(f.filename, f.delivery) for f in reply.files] == [
        ("rag-chart-2027-01-20.png", "channel")
    ]
    assert reply.files[0].document.total == 11


def test_rag_post_is_the_channel_summary_for_the_summary_channels(console):
    settings = "board settings summary=C0SUMMARY,teams:19:summary@thread.tacv2"
    assert not console.as_user(SECRETARIAT).ask(settings).error
    reply = console.as_user(CHAIR).ask("rag post")
    assert reply.title == "RAG summary" and reply.audience == "in_channel"
    assert reply.post_to == ("slack:C0SUMMARY", "teams:19:summary@thread.tacv2")
    assert reply.sections == console.ask("rag").sections


def test_report_quarter_prepares_the_report_as_a_file(console):
    reply = console.as_user(SECRETARIAT).ask("report quarter")
    assert reply.title == "Quarterly activity report, 2026 Q4"
    assert [(f.filename, f.delivery) for f in reply.files] == [
        ("quarterly-report-2026-q4.docx", "direct")
    ]
    assert reply.text.startswith("0 actions")  # Annex B was imported in 2027


# --- the priorities exercise (more in test_priorities.py and test_priorities_slack.py) ----------


def test_priorities_shows_the_boards_priorities(console):
    reply = console.as_user(COLP).ask("priorities")
    assert reply.title == "The Board's priorities" and "None recorded yet." in strings(reply)


def test_priorities_open_asks_the_partners_with_a_member(console):
    reply = console.as_user(SECRETARIAT).ask("priorities open closes=5/2/2027")
    assert reply.title == "Priorities exercise open until Fri 5 Feb 2027 (end of the day)"
    assert "Asking 4 partners about 9 key crime areas" in reply.text


def test_priorities_answer_records_the_partners_answer(console):
    console.as_user(SECRETARIAT).ask("priorities open")
    reply = console.as_user(COLP).ask("priorities answer cyber=lead fraud=contribute")
    assert reply.title == "Recorded City of London Police's answer"
    assert "Cyber attack: Lead" in strings(reply)


def test_priorities_results_tallies_the_answers(console):
    console.as_user(SECRETARIAT).ask("priorities open")
    console.as_user(COLP).ask("priorities answer cyber=lead")
    reply = console.as_user(CHAIR).ask("priorities results")
    assert reply.audience == "in_channel"
    assert "Cyber attack: 1 lead (City of London Police)" in strings(reply)


def test_priorities_set_records_the_boards_choice(console):
    reply = console.as_user(CHAIR).ask("priorities set cyber, fraud, slavery")
    assert reply.title.startswith("The Board's priorities are now: Cyber attack;")
    assert console.ask("area list").sections[0].facts[0].label == "★ Cyber attack"


def test_priorities_close_stops_the_answers(console):
    console.as_user(SECRETARIAT).ask("priorities open closes=5/2/2027")
    reply = console.as_user(CHAIR).ask("priorities close")
    assert reply.title == "Priorities exercise closed by John Simpson"
    assert console.as_user(COLP).ask("priorities answer cyber=lead").error


def test_priorities_extend_moves_the_closing_day(console):
    console.as_user(SECRETARIAT).ask("priorities open closes=5/2/2027")
    reply = console.as_user(SECRETARIAT).ask("priorities extend closes=12/2/2027")
    assert reply.title == "Priorities exercise extended to Fri 12 Feb 2027 (end of the day)"
