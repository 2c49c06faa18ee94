"""Which Board a Teams activity belongs to: found from its tenant and team, and only if the
request was authenticated for that tenant's own app.

With no Teams binding at all the deployment is one Board, `SOC_BOARD`, as it always was. Once
any tenant is bound (`soc-bot board bind SLUG --teams-tenant ID [--team ID]`), every activity
must come from a bound one: a team's or channel's conversation runs against the Board bound to
that team (else the one bound to the whole tenant); a personal or group chat against the one
Board of its tenant, or, where the tenant has several, the one Board that knows the person.
"""

from dataclasses import dataclass

from microsoft_agents.activity import Activity
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.teams.config import DEFAULT_CONNECTION, TeamsSettings
from bot.teams.ids import CHANNEL
from bot.workspace_memory import WorkspaceMemory
from models.boards import get_board
from models.db import reader
from models.people import find_member_by_identity
from models.tables import Board
from models.workspaces import BoardWorkspace, active_bindings_in, has_bindings

PERSONAL = "personal"


@dataclass(frozen=True)
class Where:
    """Where an activity came from, as Teams says: tenant, team (channels only), person."""

    tenant: str
    team: str
    object_id: str

    def bind_command(self) -> str:
        """The operator's command that would bind this tenant (and team) to a Board."""
        team = f" --team {self.team}" if self.team else ""
        return f"soc-bot board bind <board> --teams-tenant {self.tenant or '<tenant id>'}{team}"


@dataclass(frozen=True)
class Found:
    """A Board's slug, or why there is none (`several`: the person is on more than one)."""

    slug: str | None
    several: bool = False


def where_of(activity: Activity) -> Where:
    """The tenant, team and sender of an activity (each "" when Teams did not say)."""
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = (activity.conversation.tenant_id if activity.conversation else "") or str(
        (channel_data.get("tenant") or {}).get("id") or ""
    )
    conversation_type = (activity.conversation.conversation_type if activity.conversation
                         else None) or PERSONAL  # fmt: skip
    team = ""
    if conversation_type == "channel":
        team = str((channel_data.get("team") or {}).get("id") or "")
    person = activity.from_property
    return Where(tenant, team, (person.aad_object_id or "") if person else "")


class TeamsBoards:
    """Finds each activity's Board, and checks its token was for that Board's tenant."""

    def __init__(self, engine: Engine, settings: Settings, teams: TeamsSettings) -> None:
        self.engine, self.settings, self.teams = engine, settings, teams
        # A Board found is used for a few seconds: a binding made or removed by `soc-bot board
        # bind|unbind` (another process) reaches this one within `workspace_memory.SECONDS`.
        self.memory = WorkspaceMemory()

    def board_of(self, where: Where) -> Found:
        """The Board this activity runs against (slug None: none does)."""
        missed: list[Found] = []

        def look_up() -> Found | None:
            found = self._board_in_database(where)
            if found.slug is None:
                missed.append(found)  # not remembered: a binding made now is served at once
                return None
            return found

        # A channel's Board is its team's, whoever writes: one entry a team, not one a person.
        key = Where(where.tenant, where.team, "") if where.team else where
        return self.memory.recall(key, look_up) or missed[0]

    def _board_in_database(self, where: Where) -> Found:
        with Session(reader(self.engine)) as session:
            if not has_bindings(session=session, channel=CHANNEL):
                return Found(self.settings.board_slug)  # one Board, as before any binding
            if not where.tenant:
                return Found(None)
            # Tenant ids are GUIDs, bound in lower case (`soc-bot board bind`).
            bound = active_bindings_in(session=session, channel=CHANNEL,
                                       workspace_id=where.tenant.lower())  # fmt: skip
            if where.team:
                return Found(_team_board(bound, where.team))
            boards = list({board.id: board for _, board in bound}.values())
            if len(boards) == 1:
                return Found(boards[0].slug)
            known = [board for board in boards if where.object_id and find_member_by_identity(
                session=session, board_id=board.id, channel=CHANNEL,
                external_id=where.object_id)]  # fmt: skip
            if len(known) == 1:
                return Found(known[0].slug)
            return Found(None, several=len(known) > 1)

    def serves(self, slug: str) -> bool:
        """Whether a request may name this Board (e.g. in a chart link)."""
        with Session(reader(self.engine)) as session:
            if not has_bindings(session=session, channel=CHANNEL):
                return slug == self.settings.board_slug
            board = get_board(session=session, slug=slug)
            return board is not None and board.active

    def credentials_match(self, claims: dict, where: Where) -> bool:
        """Whether the request's token was issued to the app serving its tenant.

        A tenant with an app registration of its own is served only through that app (the
        token's audience), and a token of that app naming a tenant (`tid`) must name this one.
        """
        if self.teams.anonymous:
            return True
        name, app_id = self.teams.connection_for_tenant(where.tenant)
        if str(claims.get("aud") or "").casefold() != app_id.casefold():
            return False
        tid = str(claims.get("tid") or "")
        return name == DEFAULT_CONNECTION or not tid or tid.casefold() == where.tenant.casefold()


def _team_board(bound: list[tuple[BoardWorkspace, Board]], team: str) -> str | None:
    """The Board bound to this team, else the one bound to its whole tenant."""
    for team_id in (team, ""):
        for binding, board in bound:
            if binding.team_id == team_id:
                return board.slug
    return None
