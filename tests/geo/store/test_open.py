"""open_store: which backend a URL opens, and the one-sentence errors."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from geo.errors import StoreError
from geo.store import open_store
from geo.store.embedded import EmbeddedStore
from geo.store.open import DEFAULT_STORE_URL, STORE_URL_ENV, redact, resolve_url


def test_a_directory_opens_the_embedded_store(tmp_path: Path) -> None:
    with open_store(tmp_path / "new" / "store") as store:
        assert isinstance(store, EmbeddedStore)
        assert store.backend == "embedded"
    with open_store(f"file://{tmp_path / 'other'}") as store:
        assert isinstance(store, EmbeddedStore)


def test_the_url_defaults_to_the_environment_then_data_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(STORE_URL_ENV, raising=False)
    assert resolve_url(None) == DEFAULT_STORE_URL == "./data/store"
    monkeypatch.setenv(STORE_URL_ENV, str(tmp_path / "env"))
    with open_store() as store:
        assert store.url == str(tmp_path / "env")


def test_unknown_scheme_is_one_clear_sentence() -> None:
    with pytest.raises(StoreError, match="unknown scheme 'mysql'") as info:
        open_store("mysql://user:secret@host/db")
    assert "secret" not in str(info.value)
    assert str(info.value).count(". ") == 0


def test_a_file_or_a_foreign_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(StoreError, match="not a directory"):
        open_store(tmp_path / "notes.txt")
    with pytest.raises(StoreError, match=r"other files \(notes.txt\)"):
        open_store(tmp_path)


def test_password_is_redacted() -> None:
    assert redact("postgresql+psycopg://me:pw@db/t") == "postgresql+psycopg://me:***@db/t"
    assert redact("/data/store") == "/data/store"


def test_an_unreachable_postgis_url_gets_one_clear_sentence() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    url = f"postgresql+psycopg://t137:secret@127.0.0.1:{port}/t137"
    with pytest.raises(StoreError) as info:
        open_store(url, lock_timeout_s=1)
    message = str(info.value)
    assert "secret" not in message
    assert "\n" not in message
    assert str(port) in message
