"""What the priorities exercise says: the invitation, the reminder, an answer, the results."""

from datetime import date

from handlers.context import DIRECT_MESSAGE, Surface
from handlers.priorities.tally import Tally
from handlers.replies import Audience, Fact, Reply, Section
from handlers.text.dates import format_uk_date
from models.tables import CrimeArea, Stance

STANCE_LABELS = {
    Stance.LEAD: "Lead",
    Stance.CONTRIBUTE: "Contribute",
    Stance.NOT_RELEVANT: "Not relevant",
}
STANCE_WORDS = {
    "lead": Stance.LEAD,
    "leads": Stance.LEAD,
    "l": Stance.LEAD,
    "contribute": Stance.CONTRIBUTE,
    "contributes": Stance.CONTRIBUTE,
    "support": Stance.CONTRIBUTE,
    "c": Stance.CONTRIBUTE,
    "not-relevant": Stance.NOT_RELEVANT,
    "not relevant": Stance.NOT_RELEVANT,
    "notrelevant": Stance.NOT_RELEVANT,
    "not_relevant": Stance.NOT_RELEVANT,
    "irrelevant": Stance.NOT_RELEVANT,
    "none": Stance.NOT_RELEVANT,
    "no": Stance.NOT_RELEVANT,
    "n/a": Stance.NOT_RELEVANT,
    "na": Stance.NOT_RELEVANT,
    "nr": Stance.NOT_RELEVANT,
}
PURPOSE = (
    "The Board is cutting its priorities to three or four (report, paragraph 14). For each key "
    "crime area, say whether your service would lead on it, contribute to it, or whether it is "
    "not relevant to you, and add a note on your own current priorities if you like."
)
ANSWER_EXAMPLE = 'priorities answer cyber=lead fraud=contribute note="Our priorities: ..."'


def stance_label(stance: str) -> str:
    """`Lead`, `Contribute` or `Not relevant`."""
    try:
        return STANCE_LABELS[Stance(stance)]
    except ValueError:
        return stance


def possessive(name: str) -> str:
    """`CoLP's`, `Trading Standards'`."""
    return name + ("'" if name.endswith("s") else "'s")


def closing_text(closes_on: date) -> str:
    """`Fri 5 Feb 2027 (end of the day)`."""
    return f"{format_uk_date(closes_on)} (end of the day)"


def invitation_reply(
    *, board_name: str, partner_name: str, areas: list[CrimeArea], closes_on: date,
    on_behalf_of: str = "", surface: Surface = DIRECT_MESSAGE,
) -> Reply:  # fmt: skip
    """The direct message that asks one partner for its answer, written for `surface`."""
    reply = Reply(
        title=f"Priorities exercise: which key crime areas matter to {partner_name}?",
        text=PURPOSE,
        sections=[Section("The areas", lines=[f"• {area.name}" for area in areas])],
        hint=(
            f"Answers close {closing_text(closes_on)}. One answer per partner; a later one "
            f"replaces it. {_no_buttons(surface)}"
        ),
    )
    reply.notice = f"{board_name}: asked of {partner_name}, one contact per partner."
    if on_behalf_of:
        reply.notice += f" Sent to you as deputy for {on_behalf_of}, who is away."
    return reply


def chase_reply(
    *, partner_name: str, areas: list[CrimeArea], closes_on: date, on_behalf_of: str = "",
    surface: Surface = DIRECT_MESSAGE,
) -> Reply:  # fmt: skip
    """The reminder to a partner that has not answered, written for `surface`."""
    reply = Reply(
        title=f"Reminder: {partner_name} has not answered the priorities exercise yet",
        text=f"It closes {closing_text(closes_on)}. {PURPOSE}",
        sections=[Section("The areas", lines=[f"• {area.name}" for area in areas])],
        hint=_no_buttons(surface),
    )
    if on_behalf_of:
        reply.notice = f"Sent to you as deputy for {on_behalf_of}, who is away."
    return reply


def _no_buttons(surface: Surface) -> str:
    """How to answer by typing, for readers whose message shows no Answer button."""
    typed = f"`{surface.typed(ANSWER_EXAMPLE)}`"
    return f"No buttons? Type {typed}." if surface.buttons else f"Answer by typing {typed}."


def answer_facts(areas: list[CrimeArea], stances: dict[int, str]) -> list[Fact]:
    """One fact per area answered, in the exercise's order."""
    return [Fact(area.name, stance_label(stances[area.id])) for area in areas if area.id in stances]


def results_reply(
    *, tally: Tally, closes_on: date, is_open: bool, opened_text: str, in_channel: bool,
    admin: bool, surface: Surface,
) -> Reply:  # fmt: skip
    """The tally per area, who has not answered, and the notes."""
    asked = len(tally.answered) + len(tally.waiting)
    reply = Reply(
        title="Priorities exercise: results so far" if is_open else "Priorities exercise: results",
        text=(
            f"{len(tally.answered)} of {asked} partners asked have answered. {opened_text} "
            f"{'Closes' if is_open else 'Closed'} {format_uk_date(closes_on)}."
        ),
        audience=Audience.IN_CHANNEL if in_channel else Audience.EPHEMERAL,
    )
    section = Section("By key crime area (most support first)")
    for row in sorted(tally.rows, key=lambda r: r.rank):
        section.facts.append(Fact(("★ " if row.priority else "") + row.area, row.text()))
    reply.sections.append(section)
    waiting = Section("Not answered yet" if is_open else "Did not answer")
    waiting.lines.append("; ".join(tally.waiting) + "." if tally.waiting else "None.")
    if tally.not_asked:
        waiting.lines.append(
            "Not asked, as no member represents them on the Board: "
            + "; ".join(tally.not_asked)
            + "."
        )
    reply.sections.append(waiting)
    if tally.notes:
        reply.sections.append(
            Section("Partners' own priorities", lines=[f"{p}: {n}" for p, n in tally.notes])
        )
    choose = surface.typed("priorities set <area>, <area>, <area>")
    reply.hint = "★ marks the Board's current priorities. " + (
        f"Record the Board's choice with `{choose}`."
        if admin
        else "The chair records the Board's choice."
    )
    if not in_channel:
        reply.notice = "Only you can see this." + (
            "" if admin else " The chair, deputy or secretariat can post it."
        )
    return reply
