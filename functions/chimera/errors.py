"""Domain errors. One place (``chimera.api.problems``) turns them into HTTP answers."""

from __future__ import annotations


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


class StoreUnavailable(ChimeraError):
    pass


class InvalidCursor(ChimeraError):
    pass


class RateLimited(ChimeraError):
    """This person started too many chats this minute."""

    def __init__(self, *, per_minute: int, retry_after_s: float) -> None:
        super().__init__("rate limited")
        self.per_minute = per_minute
        self.retry_after_s = retry_after_s


class NotConfigured(ChimeraError):
    """This function cannot serve yet (a secret not filled in, a bad catalogue): 503 with the sentence."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence
