"""Whatever arrives, reading it never raises: parse_mail and the TONK mapping on mangled mail (hypothesis).

A mail the robot cannot make sense of must still become an item for a human (the runner's promise), so
the parser may not throw on truncated messages, broken boundaries, bad encodings or binary junk.
"""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_mail_shapes import SHAPES

from common.config import Settings
from common.sources.base import Incoming
from common.sources.mail import parse_mail
from tonk_bot.producer import to_work_item

SAMPLES = [build() for build, _, _ in SHAPES.values()]
CTX = SimpleNamespace(settings=Settings())


@st.composite
def mangled(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(0, 8))):
        position = draw(st.integers(0, len(raw) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            raw[position] = draw(st.integers(0, 255))
        elif action == "cut":
            del raw[position:position + draw(st.integers(1, 200))]
        else:
            raw[position:position] = draw(st.sampled_from([b"\r\n--b1\r\n", b"=?utf-8?B?", b"\x00\xff", b"\r\n\r\n",
                                                           b"Content-Type: multipart/mixed\r\n", b"=\r\n", b"%"]))
        if not raw:
            break
    return bytes(raw)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled())
def test_mangled_mail_never_raises(raw: bytes) -> None:
    mail = parse_mail(raw)
    assert isinstance(mail.text, str)
    item = to_work_item(Incoming(source="p", kind="mail", key="k", raw=raw), CTX)  # type: ignore[arg-type]
    assert item.documents[0].data == raw  # the original always travels with the item


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000))
def test_binary_junk_never_raises(raw: bytes) -> None:
    item = to_work_item(Incoming(source="p", kind="mail", key="k", raw=raw), CTX)  # type: ignore[arg-type]
    assert item.failure is not None  # junk is never an application
