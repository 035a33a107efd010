"""The secret key: generated whole or not at all, never shorter than 32 characters, and the
instance folder and SQLite database readable by their owner only."""

from __future__ import annotations

import multiprocessing
import os
import stat

import pytest

from statuspage import SECRET_KEY_MIN, _secret_key, create_app


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """An instance folder of its own, with nothing from the environment."""
    folder = tmp_path / "instance"
    monkeypatch.setenv("STATUSPAGE_INSTANCE_PATH", str(folder))
    for name in ("SECRET_KEY", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return folder


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_generated_key_is_long_owner_only_and_kept_across_starts(instance):
    first = create_app({"TESTING": True})
    second = create_app({"TESTING": True})
    key = first.config["SECRET_KEY"]
    assert len(key) >= SECRET_KEY_MIN and second.config["SECRET_KEY"] == key
    assert mode(instance / "secret_key") == 0o600
    assert sorted(os.listdir(instance)) == ["secret_key", "statuspage.db"]  # no temp files


def test_an_empty_key_file_refuses_to_start(instance):
    instance.mkdir()
    (instance / "secret_key").write_text("")
    with pytest.raises(RuntimeError, match=r"secret_key.*empty.*delete"):
        create_app({"TESTING": True})


def test_a_short_key_file_refuses_to_start(instance):
    instance.mkdir()
    (instance / "secret_key").write_text("abc123\n")
    with pytest.raises(RuntimeError, match="6 characters"):
        create_app({"TESTING": True})


@pytest.mark.parametrize("key", ["", "test-secret", "x" * (SECRET_KEY_MIN - 1)])
def test_a_short_or_empty_secret_key_setting_refuses_to_start(instance, key):
    with pytest.raises(RuntimeError, match="SECRET_KEY.*at least 32 characters"):
        create_app({"TESTING": True, "SECRET_KEY": key})


def test_a_short_secret_key_from_the_environment_refuses_to_start(instance, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "changeme")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"TESTING": True})


def test_a_starter_that_loses_the_race_reads_the_winners_key(tmp_path, monkeypatch):
    """It checked before the winner linked its file; its own link then fails, and it reads
    the winner's whole key instead of writing a second one."""
    (tmp_path / "secret_key").write_text("w" * 64)
    monkeypatch.setattr(os.path, "exists", lambda path: False)
    assert _secret_key(str(tmp_path)) == "w" * 64
    assert os.listdir(tmp_path) == ["secret_key"]


def test_starters_at_the_same_moment_all_read_one_whole_key(tmp_path):
    with multiprocessing.get_context("fork").Pool(6) as pool:
        keys = pool.map(_secret_key, [str(tmp_path)] * 24)
    assert len(set(keys)) == 1 and len(keys[0]) >= SECRET_KEY_MIN


def test_the_instance_folder_and_sqlite_file_are_owner_only(instance):
    instance.mkdir(mode=0o755)
    os.chmod(instance, 0o755)
    app = create_app({"TESTING": True})
    assert mode(instance) == 0o700
    database = instance / "statuspage.db"
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith(str(database))
    assert mode(database) == 0o600
