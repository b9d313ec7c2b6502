"""core.teacher: the token and the loopback rule."""

import pytest

from core import teacher


@pytest.fixture(autouse=True)
def fresh_token():
    teacher.token.cache_clear()
    yield
    teacher.token.cache_clear()


def test_the_environment_sets_the_token_and_only_it_matches(monkeypatch):
    monkeypatch.setenv(teacher.TOKEN_ENV, "s3cret-token")
    assert teacher.token() == "s3cret-token"
    assert teacher.token_matches("s3cret-token")
    for wrong in ("s3cret-toke", "S3CRET-TOKEN", "", None, 42, "s3cret-token\x00"):
        assert not teacher.token_matches(wrong)
    assert teacher.teacher_link("http://127.0.0.1:8501/") == "http://127.0.0.1:8501/?teacher=s3cret-token"


def test_without_the_environment_a_random_token_per_process(monkeypatch):
    monkeypatch.delenv(teacher.TOKEN_ENV, raising=False)
    first = teacher.token()
    assert len(first) >= 20 and teacher.token() == first  # made once, then kept
    teacher.token.cache_clear()
    assert teacher.token() != first


@pytest.mark.parametrize("ip, loopback", [(None, True), ("127.0.0.1", True), ("::1", True), ("127.0.0.2", True),
                                          ("10.0.0.7", False), ("192.168.1.20", False), ("fe80::1%eth0", False),
                                          ("not an address", False)])
def test_loopback_addresses(ip, loopback):
    assert teacher.is_loopback(ip) is loopback


def test_the_loopback_rule_can_be_turned_off(monkeypatch):
    monkeypatch.delenv(teacher.LOCAL_ENV, raising=False)
    assert teacher.loopback_counts()
    monkeypatch.setenv(teacher.LOCAL_ENV, "0")
    assert not teacher.loopback_counts()
