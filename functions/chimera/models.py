"""The typed shapes that cross layers: who is asking, what they sent, what gets stored."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict

from chimera.providers.base import Role
from chimera.providers.catalogue import ModelChoice
from chimera.text import has_unstorable

MAX_MESSAGE_CHARS = 16_000
# Something that is not blank, and no NUL (Postgres text cannot hold it). Documented in the
# OpenAPI schema so clients know what is accepted; enforced by validators with kinder sentences.
STORABLE_TEXT: JsonDict = {"pattern": r"^[^\x00]*\S[^\x00]*$"}
CONVERSATION_ID_PATTERN = r"^[A-Za-z0-9_-]+$"  # what we hand out (UUIDs), and nothing odd


def _storable(text: str) -> str:
    if has_unstorable(text):  # Postgres text cannot hold NUL; UTF-8 cannot hold a lone surrogate
        raise ValueError("contains a character that cannot be stored (NUL or a lone surrogate); remove it")
    return text


@dataclass(frozen=True, slots=True)
class Principal:
    """The person a request acts as; ``claims`` go to Postgres for row-level security."""

    user_id: str
    claims: dict[str, Any] = field(default_factory=dict)

    def claims_json(self) -> str:
        return json.dumps({"role": "authenticated", **self.claims, "sub": self.user_id})


class UIMessagePart(BaseModel):
    """One part of an AI SDK UI message; only text parts are read."""

    model_config = ConfigDict(extra="ignore")

    type: str = Field(max_length=100)
    # No length limit here: earlier answers come back as the client holds them (the body's size
    # is bounded); only the question is read, and checked (``UIChatRequest``).
    text: str | None = None


class UIMessage(BaseModel):
    """A message as the AI SDK's ``useChat`` sends it: ``{id, role, parts}``."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = Field(default=None, max_length=200)
    role: Literal["user", "assistant", "system"]
    parts: list[UIMessagePart] = Field(default_factory=list, max_length=10_000)

    @property
    def text(self) -> str:
        return "".join(part.text or "" for part in self.parts if part.type == "text")


class ChatRequest(BaseModel):
    """A chat turn in Chimera's own shape: ``{message, conversationId?, model?}``."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS, json_schema_extra=STORABLE_TEXT)
    conversation_id: str | None = Field(
        default=None, alias="conversationId", min_length=1, max_length=64, pattern=CONVERSATION_ID_PATTERN
    )
    model: ModelChoice = "auto"

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        return _a_message(value)

    regenerate: ClassVar[bool] = False
    edits: ClassVar[str | None] = None
    names_its_conversation: ClassVar[bool] = False  # a new conversation gets an id we choose


class UIChatRequest(BaseModel):
    """A chat turn as the AI SDK's ``useChat`` sends it with ``DefaultChatTransport`` (no glue):
    ``{id, messages, trigger, messageId?, model?}``. ``id`` is the conversation (a client-chosen id:
    created if new, 404 if it is someone else's); the last user message is the question (the
    earlier ones are ignored: the server's history is the conversation); ``trigger:
    "regenerate-message"`` answers the last question again, replacing its answer; ``trigger:
    "submit-message"`` with a ``messageId`` that names a saved question is an edit: that question
    and what followed it are replaced by the new question and its answer."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    id: str = Field(min_length=1, max_length=64, pattern=CONVERSATION_ID_PATTERN)
    messages: list[UIMessage] = Field(min_length=1, max_length=100_000)
    trigger: Literal["submit-message", "regenerate-message"] = "submit-message"
    message_id: str | None = Field(default=None, alias="messageId", max_length=200)
    model: ModelChoice = "auto"

    @model_validator(mode="after")
    def _a_question(self) -> UIChatRequest:
        if not self.regenerate:
            questions = [m for m in self.messages if m.role == "user"]
            if not questions:
                raise ValueError("messages has no user message; send one to ask something")
            _a_message(questions[-1].text)
        return self

    @property
    def regenerate(self) -> bool:
        return self.trigger == "regenerate-message"

    @property
    def edits(self) -> str | None:
        """The saved question this one replaces: ``useChat``'s ``sendMessage({text, messageId})``.
        An id the server never saved (a client's own) makes an ordinary question."""
        return None if self.regenerate else self.message_id

    @property
    def message(self) -> str | None:
        """The question; None when regenerating (the question is the last one saved)."""
        if self.regenerate:
            return None
        return [m for m in self.messages if m.role == "user"][-1].text

    @property
    def conversation_id(self) -> str:
        return self.id

    names_its_conversation: ClassVar[bool] = True


def _shape(body: Any) -> str:
    return "ai-sdk" if isinstance(body, dict) and "messages" in body else "chimera"


# What POST /api/chat accepts: either shape, told apart by whether it carries AI SDK `messages`.
ChatBody = Annotated[
    Annotated[ChatRequest, Tag("chimera")] | Annotated[UIChatRequest, Tag("ai-sdk")], Discriminator(_shape)
]
AnyChatRequest = ChatRequest | UIChatRequest


def _a_message(value: str) -> str:
    if not value.strip():
        raise ValueError("the message is empty; type something to send")
    if len(value) > MAX_MESSAGE_CHARS:
        raise ValueError(f"the message is longer than {MAX_MESSAGE_CHARS:,} characters; shorten it")
    return _storable(value)


@dataclass(frozen=True, slots=True)
class StoredMessage:
    role: Role
    content: str
    id: str = ""


@dataclass(frozen=True, slots=True)
class ConversationContext:
    title: str
    messages: list[StoredMessage]


@dataclass(frozen=True, slots=True)
class UsageRecord:
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_cents: Decimal
    estimated: bool  # true when the stream ended before the provider reported usage

    @property
    def tokens_used(self) -> int:
        return self.input_tokens + self.output_tokens


# --- What the history and usage APIs return (camelCase on the wire) --------------------------


class PublicModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class ConversationSummary(PublicModel):
    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    preview: str
    message_count: int


class ConversationPage(PublicModel):
    items: list[ConversationSummary]
    next_cursor: str | None


class MessagePublic(PublicModel):
    id: str
    role: Role
    content: str
    metadata: dict[str, Any] | None
    created_at: datetime
    # An answer's state: streaming (being generated: resume it with GET /api/chat/{id}/stream),
    # complete, stopped, failed (part-way), interrupted (its generator died), replaced (regenerated, or
    # a question edited, with what followed it).
    status: Literal["streaming", "complete", "stopped", "failed", "interrupted", "replaced"] = "complete"


class ConversationDetail(PublicModel):
    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    messages: list[MessagePublic]


class ConversationRename(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200, json_schema_extra=STORABLE_TEXT)

    @field_validator("title")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        title = " ".join(value.split())
        if not title:
            raise ValueError("the title is empty; type a name")
        return _storable(title)


class UsageTotals(PublicModel):
    turns: int
    input_tokens: int
    output_tokens: int
    tokens: int
    cost_cents: float


class UsageByDay(UsageTotals):
    day: date


class UsageByProvider(UsageTotals):
    provider: str


class UsageByModel(UsageTotals):
    model: str


class UsageReport(PublicModel):
    from_: date = Field(alias="from")
    to: date
    totals: UsageTotals
    by_day: list[UsageByDay]
    by_provider: list[UsageByProvider]
    by_model: list[UsageByModel]


# --- What the health and models routes return ---------------------------------------------------


class HealthReport(PublicModel):
    status: Literal["ok"]
    providers: list[str]
    simulated: bool


class ModelChoicePublic(PublicModel):
    id: ModelChoice
    label: str
    description: str
    provider: str | None = None
    provider_model: str | None = None
    context_tokens: int | None = None
    available: bool
    # ok | resting (rate limit or errors; retry_in_seconds says how long) | retired (the provider no
    # longer serves it) | not-configured (no key for its provider) | unavailable (auto: nothing can answer)
    status: Literal["ok", "resting", "retired", "not-configured", "unavailable"]
    retry_in_seconds: int | None = None


class ModelList(PublicModel):
    default: ModelChoice
    models: list[ModelChoicePublic]
