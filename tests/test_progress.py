"""One progress-bar policy: on by default, off when forced or when the book build says so."""

from __future__ import annotations

import pytest

from vidad.progress import progress_bar


def test_forced_choices_win() -> None:
    assert progress_bar(range(3), enabled=False).disable
    assert not progress_bar(range(3), enabled=True).disable


def test_default_follows_tqdm_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert progress_bar(range(3)).disable
    monkeypatch.delenv("TQDM_DISABLE")
    assert not progress_bar(range(3)).disable
    assert list(progress_bar(range(3))) == [0, 1, 2]
