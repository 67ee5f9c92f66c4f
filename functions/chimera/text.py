"""Text that Postgres and UTF-8 can hold.

Postgres ``text`` cannot hold U+0000, and a lone surrogate (legal as a JSON escape, so a provider
can send one) cannot be encoded as UTF-8 at all. A provider's answer is shown and saved with
each of them replaced by U+FFFD, the same on the wire and in the row; a person's own input with
them is refused with a sentence instead (``chimera.models``).
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """``text`` with NUL and lone surrogates replaced by U+FFFD (one pass; a no-op for normal text)."""
    return _UNSTORABLE.sub(REPLACEMENT, text)


def has_unstorable(text: str) -> bool:
    return _UNSTORABLE.search(text) is not None
