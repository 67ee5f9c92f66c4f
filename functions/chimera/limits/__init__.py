"""Limits for people: chats a minute per person and per network, tokens a day per person.

``policy`` is the arithmetic and the shapes every limiter shares (no I/O); ``gate`` applies all
three to one chat; the limiters themselves are stores (``chimera.store.memory`` for one process,
``chimera.store.dynamodb_limits`` shared by every Lambda instance).
"""
