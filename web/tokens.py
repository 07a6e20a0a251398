"""The web chat's hold on its conversations: the browser keeps a conversation id signed by the server for that
browser (its ``banshi-browser`` cookie), so a page can act only on the conversations it started, never on
another browser's or another channel's, and an id copied out of one browser is no use in another."""

from __future__ import annotations

import hashlib
import hmac


class ConversationTokens:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError(f"the secret needs at least 16 bytes, got {len(secret)}")
        self._secret = secret

    def issue(self, conversation_id: str, browser: str = "") -> str:
        """``<id>.<signature>``: what ``browser`` keeps."""
        return f"{conversation_id}.{self._sign(conversation_id, browser)}"

    def opened(self, token: object, browser: str = "") -> str | None:
        """The conversation id in a token this server issued to ``browser``; None for anything else."""
        if not isinstance(token, str) or len(token) > 200:
            return None
        conversation_id, _, signature = token.rpartition(".")
        if not conversation_id or not hmac.compare_digest(self._sign(conversation_id, browser), signature):
            return None
        return conversation_id

    def _sign(self, conversation_id: str, browser: str) -> str:
        message = f"web-conversation:{browser}:{conversation_id}".encode("utf-8", "surrogatepass")
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()
