"""Small pure pieces of a turn: titles, costs, the wire encoding, request validation."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from chimera.chat import sse
from chimera.chat.turn import title_from
from chimera.models import ChatRequest
from chimera.providers.catalogue import load_catalogue
from pydantic import ValidationError


def test_titles_are_one_line_and_cut_at_a_word() -> None:
    assert title_from("  Hello\n  world ") == "Hello world"
    long = "word " * 30
    title = title_from(long)
    assert title.endswith("…") and len(title) <= 61 and "  " not in title


def test_costs_are_exact_and_small_turns_never_round_to_zero() -> None:
    flash = (
        load_catalogue()
        .spec("gemini-flash")
        .model_copy(update={"input_usd_per_mtok": Decimal("0.30"), "output_usd_per_mtok": Decimal("2.50")})
    )
    assert flash.cost_cents(input_tokens=1_000_000, output_tokens=0) == Decimal("30")
    assert flash.cost_cents(input_tokens=0, output_tokens=1_000_000) == Decimal("250")
    assert flash.cost_cents(input_tokens=10, output_tokens=5) == Decimal("0.001550")  # never rounded to 0


def test_events_are_single_line_json_in_data_fields() -> None:
    raw = sse.text_delta("t0", "line one\nline two")
    assert raw.startswith(b"data: ") and raw.endswith(b"\n\n") and raw.count(b"\n") == 2
    assert json.loads(raw[6:]) == {"type": "text-delta", "id": "t0", "delta": "line one\nline two"}
    assert json.loads(sse.data("usage", {"n": 1})[6:]) == {"type": "data-usage", "data": {"n": 1}}


def test_chat_request_accepts_the_specification_shape() -> None:
    request = ChatRequest.model_validate({"message": "hi", "conversationId": "c1", "model": "gemini-flash"})
    assert (request.message, request.conversation_id, request.model) == ("hi", "c1", "gemini-flash")
    assert ChatRequest.model_validate({"message": "hi"}).model == "auto"


@pytest.mark.parametrize("body", [{"message": " "}, {"message": "hi", "model": "gpt"}, {"message": None}])
def test_chat_request_refuses_bad_input(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ChatRequest.model_validate(body)
