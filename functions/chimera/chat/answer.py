"""The answer as it grows: its text, who wrote it, what it cost, and how it ended.

One set of names for its facts: the metadata saved with the message and the ``data-usage`` part
streamed at the end are the same dict (``Answer.facts``), so a page shows a saved answer exactly as
it showed the live one. Tokens and cost are computed once, when the answer ends.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from chimera.models import UsageRecord
from chimera.providers.base import PromptMessage, Usage
from chimera.providers.catalogue import ModelSpec
from chimera.providers.router import ModelStarted, Spent

# streaming: being generated; then exactly one of the others. "interrupted" is never written by the
# generator: it is what a streaming row whose flushes stopped is read as (store.chat_store).
AnswerStatus = Literal["streaming", "complete", "stopped", "failed", "interrupted"]


@dataclass
class Answer:
    message_id: str
    reply_to: str  # the person's message this answers
    simulated: bool
    prompt: list[PromptMessage]
    started: float = field(default_factory=time.monotonic)
    model: ModelSpec | None = None
    fallback_reason: str | None = None
    pieces: list[str] = field(default_factory=list)
    ttft_ms: int | None = None
    spent: list[Spent] = field(default_factory=list)  # per model that answered, whole or in part
    unreported: int = 0  # pieces the answering model sent that no ``Spent`` covers yet
    status: AnswerStatus = "streaming"
    error: str | None = None  # a failed answer's sentence for the person, kept for whoever resumes it
    _usage: list[UsageRecord] | None = None

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    def model_started(self, item: ModelStarted) -> None:
        self.model, self.fallback_reason = item.model, item.fallback_reason

    def add_text(self, text: str) -> None:
        if self.ttft_ms is None:
            self.ttft_ms = self.elapsed_ms()
        self.pieces.append(text)
        self.unreported += 1

    def add_spent(self, spent: Spent) -> None:
        self.spent.append(spent)
        self.unreported = 0

    def elapsed_ms(self) -> int:
        return round((time.monotonic() - self.started) * 1000)

    def model_facts(self) -> dict[str, Any]:
        spec = self.model
        return {
            "model": spec.key if spec else None,
            "provider": spec.provider if spec else None,
            "providerModel": spec.provider_model if spec else None,
            "simulated": self.simulated,
            "fallbackReason": self.fallback_reason,
        }

    def usage(self) -> list[UsageRecord]:
        """One ledger row per model that spent tokens on this answer, computed once it has ended:
        the answering model's own count when it reported one, an estimate (and said so) when it
        was cut short."""
        if self._usage is not None:
            return self._usage
        spent = list(self.spent)
        if self.model is not None and self.unreported:
            spent.append(Spent(self.model, Usage.estimated(self.prompt, self.unreported), estimated=True))
        usage = [
            UsageRecord(
                provider=s.model.provider,
                model=s.model.key,
                input_tokens=s.usage.input_tokens,
                output_tokens=s.usage.output_tokens,
                cost_cents=s.model.cost_cents(input_tokens=s.usage.input_tokens, output_tokens=s.usage.output_tokens),
                estimated=s.estimated,
            )
            for s in spent
        ]
        if self.status != "streaming":
            self._usage = usage
        return usage

    def facts(self) -> dict[str, Any]:
        """Everything known about the answer, under the names both the metadata and the stream use."""
        usage = self.usage()
        input_tokens = sum(u.input_tokens for u in usage)
        output_tokens = sum(u.output_tokens for u in usage)
        return (
            self.model_facts()
            | {
                "status": self.status,
                "replyTo": self.reply_to,
                "models": [s.model.key for s in self.spent],  # more than one: a fallback continued it
                "inputTokens": input_tokens,
                "outputTokens": output_tokens,
                "tokens": input_tokens + output_tokens,
                "costCents": float(sum((u.cost_cents for u in usage), Decimal(0))),
                "durationMs": self.elapsed_ms(),
                "ttftMs": self.ttft_ms,
            }
            | ({"error": self.error} if self.error else {})
        )
