-- Conversations, messages and token usage, as in the specification, with time zones and the
-- indexes the history and usage queries need.

create table if not exists conversations (
    id          text primary key,
    user_id     text not null,
    title       text not null,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);
create index if not exists conversations_user_updated_idx on conversations (user_id, updated_at desc, id desc);

create table if not exists messages (
    id               text primary key,
    conversation_id  text not null references conversations (id) on delete cascade,
    role             text not null check (role in ('user', 'assistant', 'system')),
    content          text not null,
    metadata         jsonb,
    created_at       timestamptz not null default now()
);
create index if not exists messages_conversation_created_idx on messages (conversation_id, created_at, id);

-- A ledger: rows outlive the conversation they came from, so conversation_id is not a foreign key.
-- cost_cents is fractional so that many small turns never round to zero.
create table if not exists ai_usage (
    id               text primary key,
    user_id          text not null,
    conversation_id  text,
    message_id       text,
    provider         text not null,
    model            text not null,
    input_tokens     integer not null default 0,
    output_tokens    integer not null default 0,
    tokens_used      integer not null,
    cost_cents       numeric(18, 8) not null default 0,
    estimated        boolean not null default false,
    created_at       timestamptz not null default now()
);
create index if not exists ai_usage_user_created_idx on ai_usage (user_id, created_at);
