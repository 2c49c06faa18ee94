"""The Teams agent: built by a factory (never at import), its listeners registered by `register`."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import (
    AgentApplication,
    AgentAuthConfiguration,
    Connections,
    MemoryStorage,
    OutboundHostValidator,
    TurnState,
)
from sqlalchemy.engine import Engine

from bot.cli.console import system_clock
from bot.config import Settings
from bot.setup import open_engine
from bot.teams import form_listeners, listeners
from bot.teams.boards import TeamsBoards
from bot.teams.charts import ChartLinks
from bot.teams.config import TeamsSettings
from bot.teams.runtime import TeamsRuntime


@dataclass
class TeamsBot:
    """Everything the server needs: the agent, its adapter and the token-validation settings."""

    agent: AgentApplication
    adapter: CloudAdapter
    auth_configuration: AgentAuthConfiguration
    runtime: TeamsRuntime
    # The RAG chart's signed links (served by the server at `CHART_PATH`); None: no charts.
    charts: ChartLinks | None = None


def create_app(
    settings: Settings,
    teams: TeamsSettings,
    *,
    engine: Engine | None = None,
    clock: Callable[[], datetime] | None = None,
    connection_manager: Connections | None = None,
) -> TeamsBot:
    """Build the agent without touching the network; refuses to exist without credentials.

    `connection_manager` replaces the MSAL one (tests give one whose tokens are local).
    """
    teams.require_credentials()
    manager = connection_manager or MsalConnectionManager(**teams.sdk_configuration())
    # Production refuses activities whose serviceUrl is not one of Microsoft's connectors.
    validator = OutboundHostValidator(enabled=teams.check_service_url)
    adapter = CloudAdapter(connection_manager=manager, host_validator=validator)
    # Turn state only lives for a turn here; the register and conversation references are in
    # the database, so nothing is lost with the process.
    agent = AgentApplication[TurnState](
        storage=MemoryStorage(), connection_manager=manager, remove_recipient_mention=True
    )
    engine = engine or open_engine(settings)
    runtime = TeamsRuntime(settings=settings, engine=engine, clock=clock or system_clock,
                           teams_check_service_url=teams.check_service_url,
                           boards=TeamsBoards(engine, settings, teams))  # fmt: skip
    charts = ChartLinks.for_settings(teams, runtime.clock)
    listeners.register(agent, runtime, charts)
    form_listeners.register(agent, runtime)
    configuration = manager.get_default_connection_configuration()
    return TeamsBot(agent, adapter, configuration, runtime, charts)
