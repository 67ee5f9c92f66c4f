"""Limits for people: chats a minute per person and per network, tokens a day per person.

``policy`` is the arithmetic and the shapes every limiter shares (no I/O); ``gate`` applies all
three to one chat. The limiters themselves are stores: ``chimera.store.memory`` for one process,
``chimera.store.dynamodb`` shared by every Lambda instance; ``chimera.store.metered_chat_store``
counts each answer's tokens as it is saved.
"""
