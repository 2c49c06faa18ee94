"""Reply objects drawn as Slack Block Kit: messages, App Home, modals and the priorities form."""
