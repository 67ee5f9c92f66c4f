-- The answer is a record, not a connection. An assistant message is written when its turn starts
-- (status 'streaming'), its text is appended as it is generated (flushed_at: the last append),
-- and it ends 'complete', 'stopped', 'failed' or 'interrupted'; 'replaced' is an answer a person
-- asked to regenerate. stop_requested is how a stop reaches the generator from any instance: the
-- statement that flushes its progress reads it back. A 'streaming' row whose flushes stopped (its
-- process was killed, its Lambda frozen or timed out) is read as 'interrupted'.
alter table messages add column if not exists status text not null default 'complete';
alter table messages add column if not exists flushed_at timestamptz;
alter table messages add column if not exists stop_requested boolean not null default false;
do $$
begin
    if not exists (select 1 from pg_constraint where conname = 'messages_status_check') then
        alter table messages add constraint messages_status_check
            check (status in ('streaming', 'complete', 'stopped', 'failed', 'interrupted', 'replaced'));
    end if;
end
$$;
create index if not exists messages_streaming_idx on messages (conversation_id) where status = 'streaming';
