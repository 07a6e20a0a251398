"""The web: the citizen chat, the staff console, the kiosk page and the channel API."""

from assistant.settings import offline

offline()
