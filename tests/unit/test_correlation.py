"""The chat function's log lines carry the Lambda request id the Web Adapter passes along."""

from __future__ import annotations

import json

from chimera.api.correlation import _request_id


def test_the_adapter_s_lambda_request_id_is_used() -> None:
    context = json.dumps({"request_id": "8476a536-e9f4-11e8-9739-2dfe598c3fcd", "deadline": 1})
    assert _request_id({b"x-amzn-lambda-context": context.encode()}) == "8476a536-e9f4-11e8-9739-2dfe598c3fcd"


def test_without_one_a_fresh_id_is_made() -> None:
    first, second = _request_id({}), _request_id({b"x-amzn-lambda-context": b"not json"})
    assert first != second and len(first) == 36
