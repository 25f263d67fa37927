"""Every ``/v4`` answer of a fixed script of requests is byte for byte the recorded one (issue 17).

The script (:mod:`tests.api.v4_replay`) calls every endpoint on success and on its errors; the
recording holds a digest of each answer's status line, headers and body.
"""

from __future__ import annotations

import json

from simulator.api.registry import ENDPOINTS
from tests.api.v4_replay import GOLDEN, record, summary


def test_every_v4_answer_is_byte_identical_to_the_recording() -> None:
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    actual = [summary(answer) for answer in record()]
    assert len(actual) == len(expected)
    changed = [
        f"#{i} {now['request']}: {then} -> {now}"
        for i, (then, now) in enumerate(zip(expected, actual, strict=True))
        if then != now
    ]
    assert not changed, f"{len(changed)} answers changed:\n" + "\n".join(changed[:20])


def test_the_recording_has_a_success_of_every_declared_endpoint() -> None:
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    succeeded = {item["request"].split()[1].removeprefix("/v4/") for item in expected if item["code"] == 0}
    assert set(ENDPOINTS) <= succeeded
