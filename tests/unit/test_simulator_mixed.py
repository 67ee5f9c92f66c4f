"""The simulator's "mixed" shape answers like a model: sized and shaped by the prompt, the same each time.

`chimera dev` uses it by default, so the page meets what real models send: a sentence to a greeting,
rich markdown to a question, 2,000+ tokens when asked for detail.
"""

from __future__ import annotations

import re

import pytest
from chimera.dev.cli import main
from chimera.dev.settings import LocalSettings
from chimera.dev.simulator import SimulatorDefaults, simulated_answer, simulated_tokens
from chimera.dev.simulator.mixed import classify

QUESTIONS = [
    "What does asyncio do in Python?",
    "How do I stream a fetch response in the browser?",
    "What is a partial index in Postgres?",
    "Should I merge or rebase? What's the difference?",
    "How do I make crème brûlée?",
    "Any tips for a trip to Kyoto?",
    "What is the meaning of life?",
    "Why is my query slow?",
]
DETAIL = [
    "Explain Python asyncio in detail",
    "Write an essay about Kyoto",
    "A long, thorough guide to git branches please",
    "Tell me everything about Postgres indexes",
    "crème brûlée, in depth",
    "Give me a comprehensive answer on anything",
]


def _mixed(prompt: str) -> str:
    return simulated_answer(prompt, shape="mixed")


@pytest.mark.parametrize("prompt", ["hi", "Hello!", "hey there", "thanks!", "こんにちは", "Good morning"])
def test_a_greeting_gets_one_sentence(prompt: str) -> None:
    answer = _mixed(prompt)
    assert classify(prompt) == "greeting"
    assert "\n" not in answer and len(simulated_tokens(prompt, shape="mixed")) < 60
    assert answer.rstrip()[-1] in ".!?)🙂✨" and not answer.startswith("#")


@pytest.mark.parametrize("prompt", QUESTIONS)
def test_an_ordinary_question_gets_a_few_hundred_tokens_of_markdown(prompt: str) -> None:
    answer = _mixed(prompt)
    tokens = simulated_tokens(prompt, shape="mixed")
    assert 200 <= len(tokens) < 1500, len(tokens)
    assert re.search(r"^#{2,3} \S", answer, re.M), "a heading"
    assert re.search(r"^(- |\d+\. )\S", answer, re.M), "a list"
    assert re.search(r"^[^#>|\-`\d\s].{60,}", answer, re.M), "a prose paragraph"
    assert any(ord(c) > 127 for c in answer) or "```" in answer


def test_ordinary_answers_use_every_kind_of_markdown_between_them() -> None:
    answers = "\n".join(_mixed(p) for p in QUESTIONS)
    assert re.search(r"^```(python|javascript|typescript|sql|bash|console|css|ini)\n", answers, re.M)
    assert re.search(r"^\| --- \|", answers, re.M), "a table"
    assert re.search(r"^> \S", answers, re.M), "a blockquote"
    assert re.search(r"\[[^\]]+\]\(https://", answers), "a link"
    assert re.search(r"\*\*\S[^*]*\*\*", answers) and re.search(r"(?<!\*)\*[^*\s][^*]*\*(?!\*)", answers)
    assert re.search(r"^  - ", answers, re.M), "a nested list"
    assert re.search(r"[^\x00-\x7f]", answers) and re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", answers)


def test_answers_vary_with_the_question() -> None:
    answers = [_mixed(p) for p in QUESTIONS]
    assert len(set(answers)) == len(answers)
    # Not one template with words swapped: the headings and the way answers open differ too.
    assert len({tuple(re.findall(r"^#+ .*", a, re.M)) for a in answers}) >= 5
    assert len({a.split(".")[0] for a in answers}) >= 5
    assert {classify(p) for p in QUESTIONS} >= {"explain", "howto", "compare"}


@pytest.mark.parametrize("prompt", DETAIL)
def test_asking_for_detail_gets_over_2000_tokens(prompt: str) -> None:
    answer = _mixed(prompt)
    assert classify(prompt) == "detail"
    assert len(simulated_tokens(prompt, shape="mixed")) >= 2000
    assert answer.startswith("# ") and len(re.findall(r"^## ", answer, re.M)) >= 6
    assert re.search(r"^\| --- \|", answer, re.M) and re.search(r"^- \[ \] ", answer, re.M)


def test_how_long_asks_for_a_number_not_a_long_answer() -> None:
    assert classify("How long does it take to bake a crème brûlée?") != "detail"


def test_the_same_prompt_gets_the_same_answer() -> None:
    for prompt in [*QUESTIONS, *DETAIL, "hi"]:
        assert _mixed(prompt) == _mixed(prompt)
        assert simulated_tokens(prompt, shape="mixed") == simulated_tokens(prompt, shape="mixed")


def test_code_fences_and_tables_are_well_formed() -> None:
    for prompt in [*QUESTIONS, *DETAIL]:
        answer = _mixed(prompt)
        assert len(re.findall(r"^```", answer, re.M)) % 2 == 0, prompt
        for table in re.findall(r"(?:^\|.*\|\n)+", answer, re.M):
            widths = {row.count("|") for row in table.splitlines()}
            assert len(widths) == 1, table


def test_tests_keep_words_and_chimera_dev_defaults_to_mixed(monkeypatch: pytest.MonkeyPatch) -> None:
    assert SimulatorDefaults().shape == "words"
    monkeypatch.delenv("CHIMERA_SIMULATOR_SHAPE", raising=False)
    assert LocalSettings(_env_file=None).chimera_simulator_shape == "mixed"  # type: ignore[call-arg]
    monkeypatch.setenv("CHIMERA_SIMULATOR_SHAPE", "long")
    assert LocalSettings(_env_file=None).chimera_simulator_shape == "long"  # type: ignore[call-arg]


def test_the_cli_refuses_an_unknown_shape(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["dev", "--simulator-shape", "haiku"])
    assert "invalid choice: 'haiku'" in capsys.readouterr().err
