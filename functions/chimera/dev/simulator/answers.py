"""What the simulated models say, and how it is cut into the pieces a stream carries.

Everything here is a pure function of the prompt (or of the scripted text), so a test can compute
the exact answer it should see: ``simulated_answer(prompt, shape="markdown")``.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable

from chimera.dev.simulator.mixed import mixed_answer
from chimera.dev.simulator.state import Oddity, Shape, SimulatorDefaults

_WORDS = (
    "streaming tokens arrive one by one while the simulator pretends to think about your question "
    "and answers with calm deterministic words so every test knows exactly what to expect next"
).split()
_REASONING_WORDS = (
    "we need to answer the user briefly so first check what they asked then pick the clearest "
    "explanation and keep the final answer short and friendly"
).split()


def _seed(text: str) -> int:
    return int(hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8], 16)


def _calm_words(prompt: str, count: int, vocabulary: list[str] = _WORDS) -> list[str]:
    start = _seed(prompt) % len(vocabulary)
    return [("" if i == 0 else " ") + vocabulary[(start + i) % len(vocabulary)] for i in range(count)]


def _word_tokens(prompt: str, count: int) -> list[str]:
    tokens = _calm_words(prompt, count)
    if tokens:
        tokens[0] = tokens[0].capitalize()
    return tokens


# --- Markdown answers ----------------------------------------------------------------------------

_MARKDOWN = """\
# Streaming, explained

Here is a **short** answer with a little of *everything* a renderer meets: naïve café — 東京 ✓ 🚀.

## Steps

1. Open the stream and wait for the first token.
2. Append each delta **as it arrives**; never wait for the whole answer.
   - Nested items keep their indent.
3. Save the text when the stream ends.

## Notes

- Tokens split words anywhere: *incre*mental rendering must cope.
- A link: [Server-sent events on MDN](https://developer.mozilla.org/en-US/docs/Web/API/Server-sent_events).
- Inline `code`, a backslash \\ and a pipe \\| stay as they are.
- Models sometimes echo HTML: <img src=x onerror="alert(1)"> must be shown, never run.

```python
async def relay(stream):
    async for chunk in stream:
        yield chunk.text  # one piece at a time, 100% of them
```

| Provider | First token | Notes |
| --- | ---: | --- |
| Groq | 0.2 s | *fast* |
| Gemini | 0.6 s | long context |

> In short:{calm}.
"""

_SECTION = """
## Part {n}: {title}

{paragraph}

- **Point {n}.1** —{calm_a}.
- Point {n}.2 with `inline_{n}()` and an emoji 🎉.

```ts
export function part{n}(text: string): string {{
  return text.replaceAll("\\n", " ").trim(); // {n}
}}
```
"""


def markdown_answer(prompt: str) -> str:
    return _MARKDOWN.format(calm="".join(_calm_words(prompt, 8)))


def long_answer(prompt: str) -> str:
    """Well over 2,000 tokens of markdown: the size at which buffering and re-rendering hurt."""
    sections = [
        _SECTION.format(
            n=n,
            title=" ".join(_calm_words(f"{prompt}/{n}/title", 3)).strip().capitalize(),
            paragraph="".join(_calm_words(f"{prompt}/{n}", 60)).strip().capitalize() + ".",
            calm_a="".join(_calm_words(f"{prompt}/{n}/a", 10)),
        )
        for n in range(1, 19)
    ]
    return markdown_answer(prompt) + "".join(sections)


def shaped_answer(prompt: str, shape: Shape) -> str:
    """The markdown shapes' text ("words" is built as tokens, see ``simulated_tokens``)."""
    if shape == "mixed":
        return mixed_answer(prompt, _seed(prompt))
    return long_answer(prompt) if shape == "long" else markdown_answer(prompt)


# --- Cutting text into tokens --------------------------------------------------------------------

# A run of line breaks, or a word with the spaces before it (BPE's " word"), or trailing spaces.
_UNITS = re.compile(r"(?:\r?\n)+|[^\S\n]*\S+|[^\S\n]+")


def _inseparable(left: str, right: str) -> bool:
    """Pairs no tokenizer output splits: a UTF-16 surrogate pair, and CR LF."""
    return ("\ud800" <= left <= "\udbff" and "\udc00" <= right <= "\udfff") or (left, right) == ("\r", "\n")


def _split_unit(unit: str, rng: random.Random) -> list[str]:
    if len(unit) <= 4 or (len(unit) <= 8 and rng.random() < 0.4):
        return [unit]  # short common words are one token
    pieces: list[str] = []
    start = 0
    while start < len(unit):
        end = min(len(unit), start + rng.randint(1, 4))
        if end < len(unit) and _inseparable(unit[end - 1], unit[end]):
            end += 1
        pieces.append(unit[start:end])
        start = end
    return pieces


def split_into_pieces(text: str) -> list[str]:
    """``text`` as token-sized pieces (1-4 characters or whole short words), deterministically.

    Like a real tokenizer it cuts inside words, inside code fences and inside runs of spaces.
    """
    rng = random.Random(_seed(text))
    return [piece for unit in _UNITS.findall(text) for piece in _split_unit(unit, rng)]


# --- Awkward characters --------------------------------------------------------------------------


def _with_oddities(pieces: list[str], oddities: Iterable[Oddity]) -> list[str]:
    """Put the characters that break naive code where a model might emit them.

    A lone surrogate is legal in JSON ("\\ud800") and decodes to a Python str that cannot be
    encoded to UTF-8; U+0000 cannot be stored in Postgres text; U+FEFF hides at the start.
    """
    pieces = list(pieces)
    for oddity in dict.fromkeys(oddities):  # each once, in the order given
        if oddity == "bom":
            pieces[:1] = ["\ufeff" + (pieces[0] if pieces else "")]
        elif oddity == "crlf":
            if any("\n" in p for p in pieces):
                pieces = [p.replace("\r\n", "\n").replace("\n", "\r\n") for p in pieces]
            else:
                pieces.insert(len(pieces) // 2, "\r\n")
        elif oddity == "nul":
            pieces.insert(len(pieces) // 2, "\x00")
        elif oddity == "lone_surrogate":
            pieces.insert(len(pieces) // 3, "\ud800")
    return pieces


# --- The public helpers tests use ----------------------------------------------------------------


def simulated_tokens(
    prompt: str,
    count: int = SimulatorDefaults.tokens,
    shape: Shape = "words",
    *,
    answer: str | None = None,
    oddities: Iterable[Oddity] = (),
) -> list[str]:
    """The answer to ``prompt`` as the list of pieces the simulator streams (one per chunk).

    ``count`` sets the length of a "words" answer; the other shapes have their own length.
    """
    if answer is not None:
        pieces = split_into_pieces(answer)
    elif shape == "words":
        pieces = _word_tokens(prompt, count)
    else:
        pieces = split_into_pieces(shaped_answer(prompt, shape))
    return _with_oddities(pieces, oddities)


def simulated_answer(
    prompt: str,
    count: int = SimulatorDefaults.tokens,
    shape: Shape = "words",
    *,
    answer: str | None = None,
    oddities: Iterable[Oddity] = (),
) -> str:
    return "".join(simulated_tokens(prompt, count, shape, answer=answer, oddities=oddities))


def simulated_reasoning(prompt: str, count: int) -> list[str]:
    """The reasoning pieces sent before the answer when a scenario asks for ``reasoning_tokens``."""
    tokens = _calm_words(prompt, count, _REASONING_WORDS)
    if tokens:
        tokens[0] = tokens[0].capitalize()
    return tokens


def prompt_token_count(texts: list[str]) -> int:
    return sum(len(t.split()) for t in texts) + 4 * len(texts)  # a few tokens of framing per message
