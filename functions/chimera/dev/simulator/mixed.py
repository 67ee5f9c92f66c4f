"""The "mixed" shape: answers the size and form a real model gives to what was asked.

A short greeting gets one sentence; an ordinary question gets a few hundred tokens of markdown
(prose, lists, code, a table, a quote, links), laid out by the kind of question; a request for
detail gets 2,000+ tokens. The subject follows the prompt's words. Every choice is a pure function of
the prompt, so the same question always gets the same answer and a test can compute it.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from typing import Literal

from chimera.dev.simulator.topics import FALLBACK_TOPICS, TOPICS, Topic

Kind = Literal["greeting", "short", "detail", "howto", "compare", "explain"]

_GREETING = re.compile(
    r"^\W*(hi|hello|hey|hiya|howdy|yo|thanks|thank you|thx|cheers|good (morning|afternoon|evening)|bonjour|salut"
    r"|hola|ciao|hallo|merci|gracias|danke|こんにちは|你好|привет)\b",
    re.IGNORECASE,
)
# "how long does it take" asks for a number, not a long answer.
_DETAIL = re.compile(
    r"\b(in detail|detailed|in depth|in-depth|deep dive|(?<!how )long(er)?|essay|thorough(ly)?|comprehensive"
    r"|everything about|full guide|explain fully)\b",
    re.IGNORECASE,
)
_COMPARE = re.compile(r"\b(vs\.?|versus|compare|comparison|difference|differences|which is better|or should)\b", re.I)
_HOWTO = re.compile(r"^\W*how\b|\b(how (do|can|to|should)|steps|set ?up|install|configure|fix|recipe|make)\b", re.I)

_GREETING_REPLIES = (
    "Hi! 👋 What can I help you with today — code, writing, or something else entirely?",
    "Hello! Ask me anything; I'm happy to explain, draft or debug — ¿en español también? ¡Claro!",
    "Hey there — good to see you. What are you working on? ✨",
    "You're welcome! If anything else comes up, just ask — I'm here. 🙂",
    "Bonjour ! Happy to help with whatever you need — questions, code or a quick résumé of a topic.",
)
_SHORT_REPLIES = (
    "Sure — tell me a little more about what you need, and I'll take it from there. 🙂",
    "Got it. Could you say a bit more, so I can give you a useful answer rather than a guess? 🤔",
    "Happy to help — what would you like to know? (Short questions are fine; I'll ask if anything's unclear.)",
)
_OPENERS = (
    "Great question!",
    "Sure — here's a practical overview.",
    "Here's how I'd think about it.",
    "Short answer: it depends on what you need, but the essentials are the same.",
    "Happy to help with that.",
)
_HOWTO_OPENERS = (
    "Here's a step-by-step approach that works well.",
    "Happy to help — follow these steps and you should be set.",
    "This is easier than it looks. Here's the approach I'd take:",
)
_CLOSERS = (
    "Want me to go deeper on any of these, or adapt the example to your setup?",
    "If you share a bit more about your situation, I can tailor this further.",
    "Let me know if you'd like a longer walkthrough — just ask for it *in detail*.",
    "Hope that helps! 🚀",
)


def classify(prompt: str) -> Kind:
    words = prompt.split()
    if _GREETING.match(prompt) and len(words) <= 4:
        return "greeting"
    if _DETAIL.search(prompt):
        return "detail"
    if len(words) <= 2 and "?" not in prompt:
        return "short"
    if _COMPARE.search(prompt):
        return "compare"
    if _HOWTO.search(prompt):
        return "howto"
    return "explain"


def topic_for(prompt: str, rng: random.Random) -> Topic:
    words = set(re.findall(r"[\w\-]+", prompt.lower()))
    hits = [(len(t.keywords & words), t) for t in TOPICS]
    best, topic = max(hits, key=lambda hit: hit[0])
    return topic if best else rng.choice(FALLBACK_TOPICS)


def mixed_answer(prompt: str, seed: int) -> str:
    """What a model would answer to ``prompt``; ``seed`` is the prompt's own (``answers._seed``)."""
    rng = random.Random(seed)
    kind = classify(prompt)
    if kind == "greeting":
        return rng.choice(_GREETING_REPLIES)
    if kind == "short":
        return rng.choice(_SHORT_REPLIES)
    topic = topic_for(prompt, rng)
    blocks = _LAYOUTS[kind](topic, rng)
    return "\n\n".join(blocks) + "\n"


# --- Blocks ---------------------------------------------------------------------------------------


def _some[T](rng: random.Random, items: Sequence[T], low: int, high: int) -> list[T]:
    """A few of ``items``, kept in their written order (a model's list has an order that makes sense)."""
    count = min(len(items), rng.randint(low, high))
    chosen = set(rng.sample(range(len(items)), count))
    return [item for i, item in enumerate(items) if i in chosen]


def _bullets(items: Sequence[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


def _numbered(items: Sequence[str]) -> str:
    return "\n".join(f"{n}. {item}" for n, item in enumerate(items, start=1))


def _fence(language: str, source: str) -> str:
    return f"```{language}\n{source}\n```"


def _table(rows: Sequence[Sequence[str]]) -> str:
    header, *body = rows
    # Right-align a column whose cells start with a digit, as a model does for numbers.
    align = ["---:" if body and all(r[i][:1].isdigit() for r in body) else "---" for i in range(len(header))]
    lines = [header, align, *body]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def _links(topic: Topic) -> str:
    return _bullets([f"[{text}]({url})" for text, url in topic.links])


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" for line in text.splitlines())


def _code_blocks(topic: Topic, rng: random.Random, count: int) -> list[str]:
    return [_fence(lang, src) for lang, src in _some(rng, topic.code, count, count)]


def _title(topic: Topic) -> str:
    return topic.subject[0].upper() + topic.subject[1:]


# --- Layouts: one per kind of question --------------------------------------------------------------


def _explain(topic: Topic, rng: random.Random) -> list[str]:
    # The topic's first paragraph introduces it; one or two of the others follow.
    paragraphs = [topic.paragraphs[0], *_some(rng, topic.paragraphs[1:], 1, 2)]
    blocks = [f"{rng.choice(_OPENERS)} {paragraphs[0]}", *paragraphs[1:]]
    blocks += [f"## {rng.choice(('Key ideas', 'What matters most', 'The essentials'))}"]
    points = _some(rng, topic.points, 3, 4)
    blocks += [_bullets(points[:1]) + "\n  - *Careful:* " + rng.choice(topic.pitfalls) + "\n" + _bullets(points[1:])]
    blocks += _code_blocks(topic, rng, 1)
    if rng.random() < 0.7:
        blocks += [f"### {rng.choice(('At a glance', 'Quick comparison', 'Cheat sheet'))}", _table(topic.table)]
    blocks += [f"{rng.choice(_CLOSERS)} For more, see [{topic.links[0][0]}]({topic.links[0][1]})."]
    return blocks


def _howto(topic: Topic, rng: random.Random) -> list[str]:
    blocks = [rng.choice(_HOWTO_OPENERS)]
    blocks += [f"## {rng.choice(('Before you start', 'What you need'))}", _bullets(_some(rng, topic.points, 2, 3))]
    blocks += ["## Steps", _numbered(topic.steps)]  # every step, in order: a recipe with a gap fails
    blocks += _code_blocks(topic, rng, 1)
    blocks += [_quote(topic.tip)]
    blocks += ["### Common pitfalls", _bullets(_some(rng, topic.pitfalls, 2, 3))]
    blocks += [rng.choice(_CLOSERS)]
    return blocks


def _compare(topic: Topic, rng: random.Random) -> list[str]:
    (a, when_a), (b, when_b) = topic.choices
    blocks = [f"Both are good choices — they solve different problems. {rng.choice(topic.paragraphs)}"]
    blocks += [_table(topic.table)]
    blocks += [
        rng.choice(("A few things worth knowing:", "Worth keeping in mind:")),
        _bullets(_some(rng, topic.points, 2, 3)),
    ]
    blocks += [f"### When to choose {a}", f"Pick **{a}** for {when_a}."]
    blocks += [f"### When to choose {b}", f"Pick **{b}** for {when_b}."]
    blocks += _code_blocks(topic, rng, 1)
    blocks += [f"**Bottom line:** start with *{a}* unless you clearly need what *{b}* offers. {rng.choice(_CLOSERS)}"]
    return blocks


def _detail(topic: Topic, rng: random.Random) -> list[str]:
    """Everything the topic has, as a long guide: 2,000+ tokens, the size that strains a page."""
    (a, when_a), (b, when_b) = topic.choices
    examples: list[str] = []
    for n, (language, source) in enumerate(topic.code, start=1):
        examples += [f"### Example {n}", _fence(language, source), f"*Why it works:* {topic.paragraphs[n % 4]}"]
    sections: list[tuple[str, list[str]]] = [
        ("Background", [*topic.paragraphs[2:], _bullets(topic.points), _quote(topic.tip)]),
        ("Step by step", [_numbered(topic.steps)]),
        ("In practice", list(topic.more)),
        *([("Worked examples", examples)] if topic.code else []),
        ("Comparison", [_table(topic.table), f"Choose **{a}** for {when_a}; choose **{b}** for {when_b}."]),
        ("Pitfalls", [_numbered(topic.pitfalls)]),
        ("FAQ", [f"**{q}**\n{answer}" for q, answer in topic.faq]),
    ]
    # The last few sections come in an order of the prompt's own, as two answers from a model differ.
    tail = sections[-3:]
    rng.shuffle(tail)
    sections[-3:] = tail
    sections.append(("Checklist", ["\n".join(f"- [ ] {step}" for step in topic.steps)]))
    names = [name for name, _ in sections]
    blocks = [f"# {_title(topic)}: a detailed guide", *topic.paragraphs[:2]]
    blocks += ["**Contents**", _numbered([f"[{name}](#{name.lower().replace(' ', '-')})" for name in names])]
    for name, body in sections:
        blocks += [f"## {name}", *body]
    blocks += ["## Further reading", _links(topic)]
    blocks += ["---", f"*In short:* {topic.summary} {rng.choice(_CLOSERS)}"]
    return blocks


_LAYOUTS: dict[Kind, Callable[[Topic, random.Random], list[str]]] = {
    "explain": _explain,
    "howto": _howto,
    "compare": _compare,
    "detail": _detail,
}
