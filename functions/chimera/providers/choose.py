"""Which models a turn asks, in which order: ``auto`` is decided here, once, and nowhere else.

A pure function of the request's weight and each model's view (health and free-tier budget as of
about a second ago), so the decision costs microseconds and is tested without a store or a clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from random import Random

from chimera.providers.base import PromptMessage
from chimera.providers.budget import Budget
from chimera.providers.catalogue import Catalogue, ModelSpec
from chimera.providers.health import ModelHealth

# A question is "demanding" (the large model's work) when it is long, has code, asks for reasoning,
# or comes late in a long conversation; everything else is quick work for the small model.
SHORT_CHARS = 280
SHORT_LINES = 3
LONG_CONVERSATION = 12  # messages, with the system prompt
REASONING_CUES = re.compile(
    r"\b(why|prove|derive|step[- ]by[- ]step|compare|analy[sz]e|debug|design|implement|refactor|algorithm)\b",
    re.IGNORECASE,
)
# What an answer is expected to cost, in tokens, for budgeting before it is known.
PLAIN_ANSWER_TOKENS = 300
DEMANDING_ANSWER_TOKENS = 1200


@dataclass(frozen=True, slots=True)
class Weight:
    """What a request is expected to cost, and whether it needs the large model."""

    input_tokens: int
    output_tokens: int
    demanding: bool

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def weigh(messages: Sequence[PromptMessage]) -> Weight:
    question = messages[-1].content if messages else ""
    demanding = (
        len(question) > SHORT_CHARS
        or question.count("\n") >= SHORT_LINES
        or "```" in question
        or REASONING_CUES.search(question) is not None
        or len(messages) > LONG_CONVERSATION
    )
    # About four characters a token, and a few tokens of framing a message.
    input_tokens = sum(len(m.content) for m in messages) // 4 + 4 * len(messages)
    return Weight(input_tokens, DEMANDING_ANSWER_TOKENS if demanding else PLAIN_ANSWER_TOKENS, demanding)


@dataclass(frozen=True, slots=True)
class ModelView:
    """One model as a turn sees it when it starts."""

    spec: ModelSpec
    health: ModelHealth
    budget: Budget
    now: float

    def too_large(self, weight: Weight) -> bool:
        """The request can never fit: over the context window, or over all the model's tokens a minute."""
        tpm = self.spec.free_tier.tpm
        return weight.input_tokens > self.spec.context_tokens or (tpm is not None and weight.input_tokens > tpm)

    def usable(self, weight: Weight) -> bool:
        return self.health.available(self.now) and self.budget.fits(weight.tokens) and not self.too_large(weight)


def plan(
    catalogue: Catalogue, choice: str, weight: Weight, views: Mapping[str, ModelView], rng: Random
) -> list[ModelSpec]:
    """The models to ask, best first: the chosen (or ``auto``'s) model, the other models of its
    provider, then each other provider's fallback model. The router skips any that is resting,
    spent or too small when its turn comes, and asks a same-provider sibling only for a reason that
    is the model's own (gone, spent, too small), not its provider's (an outage)."""
    first = catalogue.spec(_auto(catalogue, weight, views, rng) if choice == "auto" else choice)
    chain = [first]
    chain += [spec for spec in catalogue.models if spec.provider == first.provider and spec.key != first.key]
    for provider in catalogue.routing.provider_order:
        key = catalogue.routing.fallback.get(provider)
        if key is not None and all(spec.key != key for spec in chain):
            chain.append(catalogue.spec(key))
    return [spec for spec in chain if spec.key in views]  # a provider without a key has no views


def auto_preference(catalogue: Catalogue, weight: Weight) -> str:
    """The model ``auto`` wants for a request of this weight, when it can take it."""
    return catalogue.routing.auto_large if weight.demanding else catalogue.routing.auto_small


def _auto(catalogue: Catalogue, weight: Weight, views: Mapping[str, ModelView], rng: Random) -> str:
    """The model for the request's weight if it can take it now; otherwise the load spreads over
    the models that can, in proportion to the budget each has left, so one model's overflow does
    not burn another's small free tier all at once."""
    preferred = auto_preference(catalogue, weight)
    view = views.get(preferred)
    if view is not None and view.usable(weight):
        return preferred
    others = [v for key, v in views.items() if key != preferred and v.usable(weight)]
    if not others:
        return preferred  # nobody can take it now: the router says why and when to come back
    weights = [max(v.budget.headroom, 0.01) for v in others]
    return rng.choices(others, weights=weights)[0].spec.key


def auto_description(catalogue: Catalogue) -> str:
    small, large = catalogue.spec(catalogue.routing.auto_small), catalogue.spec(catalogue.routing.auto_large)
    return (
        f"Short plain questions go to {small.label}, longer or harder ones to {large.label}; "
        "when one is busy or out of free-tier budget, another model steps in."
    )
