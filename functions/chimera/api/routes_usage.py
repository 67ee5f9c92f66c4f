"""The usage API: a person's tokens and cost by day, provider and model."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from chimera import words
from chimera.api.deps import CurrentUser, UsageStoreDep
from chimera.models import UsageReport

router = APIRouter(tags=["usage"])
DEFAULT_DAYS = 30
MAX_DAYS = 366
EARLIEST, LATEST = date(2000, 1, 1), date(9000, 12, 31)  # far from the calendar's ends


@router.get("/api/usage", response_model=UsageReport)
async def usage(
    principal: CurrentUser,
    store: UsageStoreDep,
    from_: Annotated[date | None, Query(alias="from", description="first day, UTC, inclusive")] = None,
    to: Annotated[date | None, Query(description="last day, UTC, inclusive")] = None,
) -> UsageReport:
    if any(day is not None and not EARLIEST <= day <= LATEST for day in (from_, to)):
        raise HTTPException(422, words.days_out_of_range(EARLIEST, LATEST))
    last_day = to or datetime.now(UTC).date()
    first_day = from_ or last_day - timedelta(days=DEFAULT_DAYS - 1)
    if first_day > last_day:
        raise HTTPException(422, words.DAYS_REVERSED)
    if (last_day - first_day).days >= MAX_DAYS:
        raise HTTPException(422, words.too_many_days(MAX_DAYS))
    return await store.report(principal=principal, first_day=first_day, last_day=last_day)
