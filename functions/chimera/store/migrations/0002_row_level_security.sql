-- Row-level security: every person sees only their own rows, enforced by Postgres itself.
-- On Supabase the `authenticated` role and auth.uid() exist already; on a plain Postgres (tests,
-- a laptop) we create compatible ones, so the same policies are exercised everywhere.

do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'authenticated') then
        create role authenticated nologin;
    end if;
    -- `set local role authenticated` needs membership; superusers and Supabase's postgres have it.
    if not pg_has_role(current_user, 'authenticated', 'member') then
        execute format('grant authenticated to %I', current_user);
    end if;
end
$$;

create schema if not exists auth;

do $$
begin
    if not exists (
        select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'auth' and p.proname = 'uid'
    ) then
        -- The same definition as Supabase's: the `sub` claim of the request's JWT.
        create function auth.uid() returns uuid language sql stable as $fn$
            select coalesce(
                nullif(current_setting('request.jwt.claim.sub', true), ''),
                (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
            )::uuid
        $fn$;
        -- Only for the function we made: on Supabase the auth schema is not ours to grant on,
        -- and `authenticated` can already use it.
        grant usage on schema auth to authenticated;
        grant execute on function auth.uid() to authenticated;
    end if;
end
$$;
grant select, insert, update, delete on conversations, messages to authenticated;
grant select, insert on ai_usage to authenticated;

alter table conversations enable row level security;
alter table messages enable row level security;
alter table ai_usage enable row level security;

-- `(select auth.uid())` is evaluated once per query rather than once per row.
create policy conversations_select on conversations for select to authenticated
    using (user_id = (select auth.uid())::text);
create policy conversations_insert on conversations for insert to authenticated
    with check (user_id = (select auth.uid())::text);
create policy conversations_update on conversations for update to authenticated
    using (user_id = (select auth.uid())::text)
    with check (user_id = (select auth.uid())::text);
create policy conversations_delete on conversations for delete to authenticated
    using (user_id = (select auth.uid())::text);

-- Messages belong to a person through their conversation.
create policy messages_select on messages for select to authenticated
    using (exists (select 1 from conversations c
                   where c.id = conversation_id and c.user_id = (select auth.uid())::text));
create policy messages_insert on messages for insert to authenticated
    with check (exists (select 1 from conversations c
                        where c.id = conversation_id and c.user_id = (select auth.uid())::text));
create policy messages_update on messages for update to authenticated
    using (exists (select 1 from conversations c
                   where c.id = conversation_id and c.user_id = (select auth.uid())::text));
create policy messages_delete on messages for delete to authenticated
    using (exists (select 1 from conversations c
                   where c.id = conversation_id and c.user_id = (select auth.uid())::text));

-- Usage is a ledger: a person reads and appends their own rows, never edits them.
create policy ai_usage_select on ai_usage for select to authenticated
    using (user_id = (select auth.uid())::text);
create policy ai_usage_insert on ai_usage for insert to authenticated
    with check (user_id = (select auth.uid())::text);
