-- One turn at a time per conversation: the turn that is answering holds a lease on its
-- conversation (answering_turn until answering_until). A second turn sent meanwhile is refused
-- (409), so questions and answers never interleave. The lease outlives the longest turn, so a
-- process that dies mid-answer blocks the conversation for a few minutes at most.
alter table conversations add column if not exists answering_turn text;
alter table conversations add column if not exists answering_until timestamptz;
