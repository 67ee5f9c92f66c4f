"""The limits for people: the window and day arithmetic, the memory limiters, the gate and the words.

Every limiter takes a clock; these tests move it instead of sleeping.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from chimera.api.problems import install_problem_handlers
from chimera.errors import LimitScope, RateLimited
from chimera.limits.gate import ChatLimits, address_key
from chimera.limits.policy import admit, seconds_to_midnight, utc_day, without
from chimera.store.memory import MemoryRateLimiter, MemoryTokenLimiter
from chimera.words import wait
from fastapi import FastAPI
from fastapi.testclient import TestClient

MIDNIGHT = 1_767_225_600.0  # 2026-01-01T00:00:00Z


@dataclass
class FakeClock:
    now: float = MIDNIGHT + 12 * 3600

    def __call__(self) -> float:
        return self.now


def chats(times: list[float], limit: int) -> list[float | None]:
    """Ask for a chat at each time, keeping the window between; each answer is the wait (None: allowed)."""
    hits: tuple[float, ...] = ()
    waits = []
    for now in times:
        window = admit(hits, now=now, limit=limit)
        hits = window.hits
        waits.append(window.retry_after_s)
    return waits


def test_the_limit_is_per_minute_and_the_next_chat_waits_for_the_oldest_to_leave() -> None:
    waits = chats([0.0, 10.0, 20.0, 30.0], limit=3)
    assert waits[:3] == [None, None, None]
    assert waits[3] == pytest.approx(30.0)  # the chat at 0 leaves the window at 60


def test_no_double_burst_across_a_minute_boundary() -> None:
    # Three at 0:59 and three more at 1:00 would be six in one second with fixed windows.
    waits = chats([59.0, 59.1, 59.2, 60.0, 61.0, 118.9], limit=3)
    assert waits[:3] == [None, None, None]
    assert waits[3] == pytest.approx(59.0) and waits[4] == pytest.approx(58.0) and waits[5] == pytest.approx(0.1)


def test_a_place_comes_back_as_each_chat_leaves_the_window() -> None:
    waits = chats([0.0, 1.0, 2.0, 60.0, 60.5, 61.0, 61.5], limit=3)
    assert waits == [None, None, None, None, pytest.approx(0.5), None, pytest.approx(0.5)]


def test_a_refused_chat_is_not_counted() -> None:
    hits = admit((), now=0.0, limit=1).hits
    for now in (1.0, 30.0, 59.0):
        refused = admit(hits, now=now, limit=1)
        assert refused.retry_after_s is not None and refused.hits == hits
    assert admit(hits, now=60.0, limit=1).retry_after_s is None


def test_a_lowered_limit_waits_until_enough_chats_have_left() -> None:
    hits = (0.0, 10.0, 20.0, 30.0, 40.0)  # five, counted under an older limit of five
    assert admit(hits, now=45.0, limit=2).retry_after_s == pytest.approx(45.0)  # until 30 leaves, at 90


def test_a_chat_taken_back_frees_its_place() -> None:
    hits = admit(admit((), now=1.0, limit=2).hits, now=2.0, limit=2).hits
    assert admit(hits, now=3.0, limit=2).retry_after_s is not None
    assert admit(without(hits, 2.0), now=3.0, limit=2).retry_after_s is None
    assert without(hits, 99.0) == hits


def test_days_are_utc_and_end_at_midnight() -> None:
    assert utc_day(MIDNIGHT - 1) == "2025-12-31" and utc_day(MIDNIGHT) == "2026-01-01"
    assert seconds_to_midnight(MIDNIGHT - 1) == 1
    assert seconds_to_midnight(MIDNIGHT) == 86_400


def test_the_memory_limiter_follows_its_clock() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(limit=2, clock=clock)

    async def run() -> list[float | None]:
        waits = []
        for step in (0.0, 1.0, 1.0, 58.5):
            clock.now += step
            waits.append((await limiter.acquire("person#a")).retry_after_s)
        return waits

    assert asyncio.run(run()) == [None, None, pytest.approx(58.0), None]  # the first leaves at +60


def test_tokens_are_refused_at_the_limit_until_midnight_utc() -> None:
    clock = FakeClock(now=MIDNIGHT - 5 * 3600)
    tokens = MemoryTokenLimiter(limit=1_000, clock=clock)

    async def run() -> list[float | None]:
        waits = [await tokens.wait("a")]
        await tokens.record("a", 999)
        waits.append(await tokens.wait("a"))
        await tokens.record("a", 1)
        waits += [await tokens.wait("a"), await tokens.wait("b")]
        clock.now = MIDNIGHT
        waits.append(await tokens.wait("a"))
        return waits

    assert asyncio.run(run()) == [None, None, 5 * 3600, None, None]


def limits(clock: FakeClock, *, person: int = 2, address: int = 3, tokens: int = 1_000) -> ChatLimits:
    return ChatLimits(
        per_person=MemoryRateLimiter(limit=person, clock=clock),
        per_address=MemoryRateLimiter(limit=address, clock=clock),
        tokens=MemoryTokenLimiter(limit=tokens, clock=clock),
    )


def refusal(gate: ChatLimits, user_id: str, address: str | None) -> RateLimited | None:
    async def run() -> RateLimited | None:
        try:
            await gate.admit(user_id=user_id, address=address)
        except RateLimited as exc:
            return exc
        return None

    return asyncio.run(run())


def test_a_person_over_their_limit_spends_nothing_of_their_networks() -> None:
    gate = limits(FakeClock(), person=1, address=2)
    assert refusal(gate, "a", "192.0.2.1") is None
    refused = refusal(gate, "a", "192.0.2.1")
    assert refused is not None and (refused.scope, refused.limit) == ("person", 1)
    assert refusal(gate, "b", "192.0.2.1") is None  # the network's second place was not taken by a's refusal
    refused = refusal(gate, "c", "192.0.2.1")
    assert refused is not None and (refused.scope, refused.limit) == ("address", 2)
    assert refusal(gate, "c", "198.51.100.7") is None  # another network


def test_a_refund_gives_back_every_count_a_chat_took() -> None:
    gate = limits(FakeClock(), person=1, address=1)

    async def run() -> None:
        admitted = await gate.admit(user_id="a", address="192.0.2.1")
        await admitted.refund()
        await gate.admit(user_id="a", address="192.0.2.1")

    asyncio.run(run())


def test_the_refusal_names_the_limit_that_keeps_the_chat_out_longest() -> None:
    clock = FakeClock()
    gate = limits(clock, person=1, tokens=10)
    asyncio.run(gate.tokens.record("a", 10))
    refused = refusal(gate, "a", None)
    assert refused is not None and refused.scope == "tokens"
    assert refused.retry_after_s == seconds_to_midnight(clock.now)


def test_without_an_address_only_the_persons_limits_apply() -> None:
    gate = limits(FakeClock(), person=5, address=1)
    assert [refusal(gate, user, None) for user in ("a", "b", "c")] == [None, None, None]


def test_one_ipv6_subscriber_block_is_one_network() -> None:
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9") == "address#2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:192.0.2.1") == address_key("192.0.2.1") == "address#192.0.2.1"


@pytest.mark.parametrize(
    ("scope", "limit", "retry_after_s", "detail", "retry_after"),
    [
        (
            "person",
            20,
            11.2,
            "You have sent 20 messages in the last minute. Please wait 12 seconds; your text is kept.",
            "12",
        ),
        ("person", 1, 0.3, "You have sent 1 message in the last minute. Please wait 1 second; your text is kept.", "1"),
        (
            "address",
            60,
            30.0,
            "Your network has sent 60 messages in the last minute. Please wait 30 seconds; your text is kept.",
            "30",
        ),
        (
            "tokens",
            200_000,
            5 * 3600 - 100,
            "You have used today's 200,000 tokens. They renew at midnight UTC, in about 5 hours. "
            "Please wait until then; your text is kept.",
            "17900",
        ),
        (
            "tokens",
            100_000,
            40 * 60,
            "You have used today's 100,000 tokens. They renew at midnight UTC, in about 40 minutes. "
            "Please wait until then; your text is kept.",
            "2400",
        ),
        (
            "tokens",
            100_000,
            60,
            "You have used today's 100,000 tokens. They renew at midnight UTC, in 60 seconds. "
            "Please wait until then; your text is kept.",
            "60",
        ),
    ],
)
def test_a_limit_reached_is_a_429_with_retry_after_and_a_sentence(
    scope: LimitScope, limit: int, retry_after_s: float, detail: str, retry_after: str
) -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/limited")
    async def limited() -> None:
        raise RateLimited(scope=scope, limit=limit, retry_after_s=retry_after_s)

    response = TestClient(app).get("/limited")

    assert response.status_code == 429
    assert response.headers["retry-after"] == retry_after
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == detail
    assert response.json()["retryAfterSeconds"] == int(retry_after)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0.2, "1 second"), (1, "1 second"), (40, "40 seconds"), (89, "89 seconds"), (300, "about 5 minutes"),
     (5 * 3600, "about 5 hours")],
)  # fmt: skip
def test_waits_read_as_a_person_says_them(seconds: float, words: str) -> None:
    assert wait(seconds) == words
