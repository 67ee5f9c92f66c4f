"""The typed shapes that cross layers: who is asking, what they sent, what gets stored."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chimera.providers.base import Role
from chimera.providers.registry import ModelChoice

MAX_MESSAGE_CHARS = 16_000


@dataclass(frozen=True, slots=True)
class Principal:
    """The person a request acts as; ``claims`` go to Postgres for row-level security."""

    user_id: str
    claims: dict[str, Any] = field(default_factory=dict)

    def claims_json(self) -> str:
        return json.dumps({"role": "authenticated", **self.claims, "sub": self.user_id})


class ChatRequest(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    conversation_id: str | None = Field(default=None, alias="conversationId", min_length=1, max_length=64)
    model: ModelChoice = "auto"

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the message is empty; type something to send")
        return value


@dataclass(frozen=True, slots=True)
class StoredMessage:
    role: Role
    content: str


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
