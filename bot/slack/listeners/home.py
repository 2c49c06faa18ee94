"""The App Home tab: the member's own actions with controls, and the Board's 4P dashboard."""

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.slack.ids import HOME_PAGE
from bot.slack.listeners.interactions import home_page, publish_home
from bot.slack.listeners.runtime import Runtime


def register(app: App, runtime: Runtime) -> None:
    """Publish the Home tab when it is opened, and page through "your actions"."""

    @app.event("app_home_opened")
    def publish_home_tab(event: dict, client: WebClient, runtime: Runtime) -> None:
        if event.get("tab") != "home":
            return
        user_id = event["user"]
        runtime.within_budget(lambda: publish_home(runtime, client, user_id), None)

    @app.action(HOME_PAGE)
    def turn_home_page(
        ack: Ack, body: dict, action: dict, client: WebClient, runtime: Runtime
    ) -> None:
        ack()
        user_id = body["user"]["id"]
        try:
            page = int(action.get("value") or home_page(body))
        except ValueError:
            page = 1
        runtime.within_budget(lambda: publish_home(runtime, client, user_id, page), None)
