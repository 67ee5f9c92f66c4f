"""A person's token usage and cost, totalled by day, provider and model in one query."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from chimera.models import Principal, UsageByDay, UsageByModel, UsageByProvider, UsageReport, UsageTotals
from chimera.store.postgres import as_person

_REPORT = """
    select grouping(day) as no_day, grouping(provider) as no_provider, grouping(model) as no_model,
           day, provider, model,
           count(*) as turns,
           coalesce(sum(input_tokens), 0) as input_tokens,
           coalesce(sum(output_tokens), 0) as output_tokens,
           coalesce(sum(tokens_used), 0) as tokens,
           coalesce(sum(cost_cents), 0)::float8 as cost_cents
    from (
        select (created_at at time zone 'UTC')::date as day, provider, model,
               input_tokens, output_tokens, tokens_used, cost_cents
        from ai_usage
        where user_id = %(user)s and created_at >= %(start)s and created_at < %(end)s
    ) usage
    group by grouping sets ((), (day), (provider), (model))
    order by day, provider, model
"""


class PostgresUsageStore:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def report(self, *, principal: Principal, first_day: date, last_day: date) -> UsageReport:
        """Usage from the start of ``first_day`` to the end of ``last_day``, in UTC."""
        # UTC midnights, not dates: a bare date would be read in the session's time zone.
        start = datetime.combine(first_day, time.min, tzinfo=UTC)
        params = {
            "user": principal.user_id,
            "start": start,
            "end": start + timedelta(days=(last_day - first_day).days + 1),
        }
        async with as_person(self._pool, principal) as conn:
            cur = conn.cursor(row_factory=dict_row)
            rows = await (await cur.execute(_REPORT, params)).fetchall()
        totals = UsageTotals(turns=0, input_tokens=0, output_tokens=0, tokens=0, cost_cents=0.0)
        by_day, by_provider, by_model = [], [], []
        for row in rows:
            if row["no_day"] and row["no_provider"] and row["no_model"]:
                totals = UsageTotals.model_validate(row)
            elif not row["no_day"]:
                by_day.append(UsageByDay.model_validate(row))
            elif not row["no_provider"]:
                by_provider.append(UsageByProvider.model_validate(row))
            else:
                by_model.append(UsageByModel.model_validate(row))
        return UsageReport.model_validate(
            {
                "from": first_day,
                "to": last_day,
                "totals": totals,
                "by_day": by_day,
                "by_provider": by_provider,
                "by_model": by_model,
            }
        )
