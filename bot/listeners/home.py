"""The App Home tab: the member's own actions each time they open it."""

from slack_bolt import App
from slack_sdk import WebClient

from bot.listeners.runtime import Runtime
from bot.render.blocks import home_view

INTRO = (
    "soc-bot keeps the Board's action register. Type `/soc help` in any channel for the "
    "commands; `/soc action status` shows your partner's actions with buttons."
)


def register(app: App, runtime: Runtime) -> None:
    """Publish the Home tab when it is opened."""

    @app.event("app_home_opened")
    def publish_home(event: dict, client: WebClient) -> None:
        if event.get("tab") != "home":
            return
        user_id = event["user"]

        def publish() -> None:
            reply = runtime.run(user_id, "action status")
            client.views_publish(user_id=user_id, view=home_view(reply, runtime.settings.tz, INTRO))

        runtime.within_budget(publish, None)
