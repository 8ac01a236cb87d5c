"""The ``visitor.context`` frame parsed and bounded (chat.context), and the
User-Agent told as browser and system (chat.useragent): no database."""

from __future__ import annotations

from typing import Any

import pytest

from chat import context, frames
from chat.exceptions import ChatError
from chat.useragent import describe


def parse(**fields: Any) -> Any:
    return frames.parse_frame({"type": "visitor.context", **fields}, operator=False)


def test_a_full_context_is_parsed() -> None:
    frame = parse(
        url="https://shop.example/cart?x=1",
        title="  Your   cart ",
        referrer="https://www.google.com/",
        timezone="Europe/Istanbul",
        language="tr-TR",
        attributes={"plan": "pro", "seats": 3, "trial": False, "gone": None},
    )
    assert frame.fields == {
        "url": "https://shop.example/cart?x=1",
        "title": "Your cart",
        "referrer": "https://www.google.com/",
        "timezone": "Europe/Istanbul",
        "language": "tr-TR",
    }
    assert frame.attributes == {"plan": "pro", "seats": 3, "trial": False, "gone": None}


def test_every_field_is_optional() -> None:
    frame = parse()
    assert (frame.fields, frame.attributes) == ({}, {})


def test_a_referrer_on_the_same_site_is_not_where_they_came_from() -> None:
    frame = parse(url="https://shop.example/b", referrer="https://shop.example/a")
    assert frame.fields == {"url": "https://shop.example/b"}


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"url": "https://x.example/" + "a" * 500}, "too_long"),
        ({"url": "javascript:alert(1)"}, "invalid"),
        ({"url": "/relative"}, "invalid"),
        ({"referrer": "ftp://x.example/"}, "invalid"),
        ({"url": 5}, "invalid"),
        ({"title": "t" * 201}, "too_long"),
        ({"title": "bell\x07"}, "invalid"),
        ({"timezone": "Mars/Olympus"}, "invalid"),
        ({"language": "not a tag"}, "invalid"),
        ({"attributes": ["a"]}, "invalid"),
        ({"attributes": {f"k{n}": n for n in range(21)}}, "too_long"),
        ({"attributes": {"k" * 41: 1}}, "invalid"),
        ({"attributes": {"bad key": 1}}, "invalid"),
        ({"attributes": {"k": "v" * 201}}, "too_long"),
        ({"attributes": {"k": {"nested": 1}}}, "invalid"),
        ({"attributes": {"k": [1]}}, "invalid"),
        ({"attributes": {"k": 2**60}}, "invalid"),
        ({"attributes": {"k": float("nan")}}, "invalid"),
    ],
)
def test_each_bound_is_refused_with_a_clear_error(
    fields: dict[str, Any], code: str
) -> None:
    with pytest.raises(ChatError) as refused:
        parse(**fields)
    assert refused.value.code == code
    assert str(refused.value.detail)


def test_attributes_merge_and_null_removes_a_key() -> None:
    merged = context.merge_attributes({"a": 1, "b": 2}, {"b": None, "c": "x"})
    assert merged == {"a": 1, "c": "x"}


def test_attributes_beyond_the_bound_after_merging_are_refused() -> None:
    full = {f"k{n}": n for n in range(context.MAX_ATTRIBUTES)}
    with pytest.raises(ChatError):
        context.merge_attributes(full, {"one_more": 1})
    assert context.merge_attributes(full, {"k0": "changed"})["k0"] == "changed"
    lenient = context.merge_attributes(full, {"one_more": 1}, strict=False)
    assert "one_more" not in lenient


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
            "like Gecko) Chrome/120.0.0.0 Safari/537.36",
            ("Chrome 120", "Windows 10/11"),
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
            "like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
            ("Edge 120", "Windows 10/11"),
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.1 Safari/605.1.15",
            ("Safari 17.1", "macOS"),
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) "
            "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 "
            "Safari/604.1",
            ("Safari 17.1", "iOS 17.1"),
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, "
            "like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
            ("Samsung Internet 23", "Android 14"),
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
            ("Firefox 121", "Linux"),
        ),
        ("curl/8.5.0", ("", "")),
    ],
)
def test_the_user_agent_is_told_as_browser_and_system(
    user_agent: str, expected: tuple[str, str]
) -> None:
    assert describe(user_agent) == expected
