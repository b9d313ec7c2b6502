"""core.classroom.teacher: the token and the loopback rule."""

import pytest

from core.classroom import teacher


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


@pytest.mark.parametrize(
    "ip, loopback",
    [
        (None, True),
        ("127.0.0.1", True),
        ("::1", True),
        ("127.0.0.2", True),
        ("10.0.0.7", False),
        ("192.168.1.20", False),
        ("fe80::1%eth0", False),
        ("not an address", False),
    ],
)
def test_loopback_addresses(ip, loopback):
    assert teacher.is_loopback(ip) is loopback


def test_the_loopback_rule_can_be_turned_off(monkeypatch):
    monkeypatch.delenv(teacher.LOCAL_ENV, raising=False)
    assert teacher.loopback_counts()
    monkeypatch.setenv(teacher.LOCAL_ENV, "0")
    assert not teacher.loopback_counts()


# --- the teacher's role kept in a browser's cookie ---------------------------------------------------

NOW = 1_800_000_000.0  # a fixed time: the cookie's own clock is the argument, never the machine's


def test_a_role_cookie_holds_no_token_and_another_token_refuses_it(monkeypatch):
    monkeypatch.setenv(teacher.TOKEN_ENV, "lecture-hall-token")
    cookie = teacher.role_cookie(now=NOW)
    issued, mac = cookie.split(".")
    assert issued == "1800000000" and len(mac) == 64  # the time it was made and a SHA-256 HMAC in hex
    assert "lecture-hall-token" not in cookie and "lecture" not in cookie
    assert teacher.role_cookie_valid(cookie, now=NOW + 60)
    # Another process of the same hall (same token, its own cache) accepts it...
    teacher.token.cache_clear()
    assert teacher.role_cookie_valid(cookie, now=NOW + 60)
    # ...a restart with another token does not, nor one with a random token.
    monkeypatch.setenv(teacher.TOKEN_ENV, "lecture-hall-token2")
    teacher.token.cache_clear()
    assert not teacher.role_cookie_valid(cookie, now=NOW + 60)
    monkeypatch.delenv(teacher.TOKEN_ENV)
    teacher.token.cache_clear()
    assert not teacher.role_cookie_valid(cookie, now=NOW + 60)


def test_a_forged_altered_or_truncated_role_cookie_is_refused(monkeypatch):
    monkeypatch.setenv(teacher.TOKEN_ENV, "s3cret-token")
    cookie = teacher.role_cookie(now=NOW)
    issued, mac = cookie.split(".")
    flipped = mac[:10] + ("0" if mac[10] != "0" else "1") + mac[11:]
    later = str(int(issued) + 3600)  # a later time with the old MAC: a role made to last longer
    forged = [
        cookie[:-1],
        cookie[:-32],
        issued,
        f"{issued}.",
        f".{mac}",
        mac,  # cut short
        f"{issued}.{flipped}",
        f"{later}.{mac}",
        f"{issued}.{mac.upper()}",
        f"{issued}.{mac}0",
        f"0{issued}.{mac}",
        f"{issued}.{'0' * 64}",
        f"{issued}.{teacher.token()}",
        "s3cret-token",
        f" {cookie}",
        f"{cookie}\n",
        "",
        None,
        42,
        b"bytes",
    ]
    assert teacher.role_cookie_valid(cookie, now=NOW)  # the control: the real one is accepted
    for value in forged:
        assert not teacher.role_cookie_valid(value, now=NOW), value


def test_a_role_cookie_lasts_a_school_day(monkeypatch):
    monkeypatch.setenv(teacher.TOKEN_ENV, "s3cret-token")
    cookie = teacher.role_cookie(now=NOW)
    assert teacher.COOKIE_MAX_AGE_S == 12 * 3600
    assert teacher.role_cookie_valid(cookie, now=NOW + 12 * 3600)
    assert not teacher.role_cookie_valid(cookie, now=NOW + 12 * 3600 + 1)
    # A process whose clock is up to a minute behind the one that made it still accepts it.
    assert teacher.role_cookie_valid(cookie, now=NOW - 60)
    assert not teacher.role_cookie_valid(cookie, now=NOW - 61)


def test_a_students_key_is_random_and_only_its_form_is_accepted():
    keys = {teacher.new_student_key() for _ in range(100)}
    assert len(keys) == 100 and all(teacher.is_student_key(key) for key in keys)
    for wrong in ("", "abc", "g" * 32, "A" * 32, "0" * 31, "0" * 33, "0" * 32 + "\n", None, 7):
        assert not teacher.is_student_key(wrong)


# --- the Streamlit side (dashboard.frame.roles) ------------------------------------------------------------


def test_only_the_teacher_names_the_rule_in_force(monkeypatch):
    from dashboard.frame import roles

    monkeypatch.delenv(teacher.LOCAL_ENV, raising=False)
    assert roles.only_teacher("hide a digit") == (
        "Only the teacher can hide a digit: the teacher uses the server's "
        "own machine, or opens the teacher link printed in the server's "
        "terminal."
    )
    monkeypatch.setenv(teacher.LOCAL_ENV, "0")  # a lecture hall, a classroom test: the machine is no teacher
    assert roles.only_teacher("hide a digit") == (
        "Only the teacher can hide a digit: the teacher opens the teacher link printed in the server's terminal."
    )


def cookie_scripts(at) -> str:
    return "\n".join(h.value for h in at.get("html") if "data-cookies" in h.value)


def test_the_teacher_link_writes_a_signed_cookie_and_leaving_drops_it_with_the_rights(monkeypatch, tmp_path):
    from tests.harness import run_page

    monkeypatch.setenv("CNN_EXPLAINER_CLASS_DB", str(tmp_path / "class.sqlite"))
    monkeypatch.setenv(teacher.LOCAL_ENV, "0")
    monkeypatch.setenv(teacher.TOKEN_ENV, "s3cret-token")
    at = run_page("class", {"teacher": "s3cret-token"})
    assert not at.exception and not at.button(key="wall_new").disabled
    written = cookie_scripts(at)
    role = next(value for value in written.split('"') if value.startswith(f"{teacher.COOKIE}="))
    assert teacher.role_cookie_valid(role.removeprefix(f"{teacher.COOKIE}="))
    assert "s3cret-token" not in written and "SameSite=Strict" in written and "Path=/" in written
    assert f"Max-Age={teacher.COOKIE_MAX_AGE_S}" in written

    at.button(key="leave_teacher").click().run()
    assert at.button(key="wall_new").disabled and "leave_teacher" not in [b.key for b in at.button]
    assert f'"{teacher.COOKIE}=" + \'; Path=/; Max-Age=0' in cookie_scripts(at)  # the browser drops it
    assert any("You left the teacher's role" in c.value for c in at.sidebar.caption)
