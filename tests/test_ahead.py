"""Work started ahead (quire/ahead.py): taken by the stage that needs it, as if made there."""

from __future__ import annotations

import threading

import pytest

from quire.ahead import ahead, begin_build, when_needed


def test_a_call_started_ahead_is_made_once_and_taken_later() -> None:
    calls: list[str] = []
    release = threading.Event()

    def slow(name: str) -> str:
        release.wait(10)
        calls.append(name)
        return name.upper()

    begin_build()
    ahead(slow, "cover")
    release.set()
    assert when_needed(slow, "cover") == "COVER"
    assert when_needed(slow, "cover") == "COVER"  # kept for the build: the web edition's turn
    assert calls == ["cover"]


def test_an_error_raised_ahead_is_raised_where_the_result_is_taken() -> None:
    def failing() -> None:
        raise ValueError("bad style sheet")

    begin_build()
    ahead(failing)
    with pytest.raises(ValueError, match="bad style sheet"):
        when_needed(failing)


def test_other_arguments_or_another_build_make_the_call_again() -> None:
    calls: list[str] = []

    def made(name: str) -> str:
        calls.append(name)
        return name

    begin_build()
    ahead(made, "title from book.yaml")
    assert (
        when_needed(made, "title from the chapter's metadata")
        == "title from the chapter's metadata"
    )
    begin_build()  # the next build: its files may have changed
    assert when_needed(made, "title from book.yaml") == "title from book.yaml"
    assert calls.count("title from book.yaml") == 2
