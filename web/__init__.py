"""The web: the citizen chat, the staff console, the kiosk page and the channel API."""

from knowledge.settings import offline

offline()
