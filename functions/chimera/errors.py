"""Domain errors. One place (``chimera.api.problems``) turns them into HTTP answers.

Their messages are for logs; what a person reads comes from ``chimera.words``. Only
``NotConfigured`` carries its sentence (built by ``chimera.words``, or the model catalogue's own).
"""

from __future__ import annotations

from typing import Literal


class ChimeraError(Exception):
    """Base of the errors we expect and can explain to a person."""


class ConversationNotFound(ChimeraError):
    def __init__(self, conversation_id: str) -> None:
        super().__init__("conversation not found")
        self.conversation_id = conversation_id


class ConversationBusy(ChimeraError):
    """Another turn of this conversation is still being answered."""

    def __init__(self, conversation_id: str) -> None:
        super().__init__("conversation busy")
        self.conversation_id = conversation_id


class NothingToRegenerate(ChimeraError):
    """A regenerate request for a conversation with no question answered yet."""

    def __init__(self, conversation_id: str) -> None:
        super().__init__("nothing to regenerate")
        self.conversation_id = conversation_id


class StoreUnavailable(ChimeraError):
    """The database could not be reached."""


class InvalidCursor(ChimeraError):
    """A cursor this API did not give out."""


LimitScope = Literal["person", "address", "tokens"]


class RateLimited(ChimeraError):
    """A limit for people was reached: ``limit`` chats a minute for the person or for their
    network (``scope`` "person" / "address"), or ``limit`` tokens today for the person ("tokens")."""

    def __init__(self, *, scope: LimitScope, limit: int, retry_after_s: float) -> None:
        super().__init__("rate limited")
        self.scope = scope
        self.limit = limit
        self.retry_after_s = retry_after_s


class NotConfigured(ChimeraError):
    """This function cannot serve yet (a secret not filled in, a bad catalogue): 503 with the sentence."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence
