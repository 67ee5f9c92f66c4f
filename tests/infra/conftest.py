"""The infra suite reads the session's one synth of the app (tests/support/templates.py)."""

from tests.support.templates import synthesized  # noqa: F401  (a session fixture, shared by every suite)
