"""Who is who: the teacher (the server's own machine, or the teacher link once) and each student's
browser (a random key).

The token is printed in the terminal when the server starts, as Jupyter prints its token
(``make run`` does it; a bare ``streamlit run`` prints it when the first page opens).
``CNN_EXPLAINER_TEACHER_TOKEN`` sets it, so several server processes share one; otherwise it is
random for each start. ``CNN_EXPLAINER_LOCAL_TEACHER=0`` stops the loopback rule (how a test
plays a student from localhost, and what ``make run REPLICAS=N`` sets: behind HAProxy every
browser arrives from the loopback address). A token is compared in constant time.

A browser that opened the teacher link keeps the role through a cookie (``role_cookie``): the
time it was made and an HMAC of that time keyed by the token, never the token itself. Every
process that shares the token accepts it; a restart with a new random token, or
``COOKIE_MAX_AGE_S`` after it was made, refuses it. A student's browser is a random key
(``new_student_key``), in a cookie too: it says nothing about the person, it only lets the class
store count one browser as one student across reloads.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import os
import re
import secrets
import time

TOKEN_ENV = "CNN_EXPLAINER_TEACHER_TOKEN"
LOCAL_ENV = "CNN_EXPLAINER_LOCAL_TEACHER"
PARAM = "teacher"  # ?teacher=TOKEN on any page, once per browser

COOKIE = "cnnx_teacher"
COOKIE_MAX_AGE_S = 12 * 3600  # a school day: the next day starts from the terminal's link again
CLOCK_SKEW_S = 60  # processes of one hall may disagree on the time by this much
_ROLE = b"cnn-explainer teacher role|"  # what the MAC says: this is a teacher's role, made at this time
_ROLE_COOKIE = re.compile(r"([0-9]{1,12})\.([0-9a-f]{64})")

STUDENT_COOKIE = "cnnx_student"
NICKNAME_COOKIE = "cnnx_nickname"
STUDENT_MAX_AGE_S = 365 * 24 * 3600  # a school year
_STUDENT_KEY = re.compile(r"[0-9a-f]{32}")


@functools.cache
def token() -> str:
    """This server's teacher token: the environment's, else a random one made once per process."""
    return os.environ.get(TOKEN_ENV, "").strip() or secrets.token_urlsafe(16)


def token_matches(candidate: object) -> bool:
    """Whether ``candidate`` is the token (constant-time, whatever it is)."""
    if not isinstance(candidate, str) or not candidate:
        return False
    return hmac.compare_digest(candidate.encode("utf-8", "replace"), token().encode())


def loopback_counts() -> bool:
    """Whether a browser on the server's own machine is the teacher (unless told otherwise)."""
    return os.environ.get(LOCAL_ENV, "1").strip() != "0"


def is_loopback(ip: str | None) -> bool:
    """Streamlit gives no address (None) to a browser on localhost; else the connection's address."""
    if ip is None:
        return True
    try:
        return ipaddress.ip_address(ip.split("%")[0]).is_loopback
    except ValueError:
        return False


def teacher_link(base_url: str) -> str:
    """The link that makes a browser the teacher: ``http://host:8501/?teacher=TOKEN``."""
    return f"{base_url.rstrip('/')}/?{PARAM}={token()}"


def _role_mac(issued: str) -> str:
    return hmac.new(token().encode(), _ROLE + issued.encode(), hashlib.sha256).hexdigest()


def role_cookie(now: float | None = None) -> str:
    """The teacher's role for a browser that opened the teacher link: ``"<unix time>.<hex HMAC>"``."""
    issued = str(int(time.time() if now is None else now))
    return f"{issued}.{_role_mac(issued)}"


def role_cookie_valid(value: object, now: float | None = None) -> bool:
    """Whether ``value`` is a role cookie made with this server's token, less than
    ``COOKIE_MAX_AGE_S`` ago (compared in constant time; anything malformed is refused)."""
    found = _ROLE_COOKIE.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        return False
    issued = int(found[1])
    now = time.time() if now is None else now
    if not issued - CLOCK_SKEW_S <= now <= issued + COOKIE_MAX_AGE_S:
        return False
    return hmac.compare_digest(found[2], _role_mac(found[1]))  # the time as written: "01..." is another


def new_student_key() -> str:
    """A fresh random key for a browser that has none: 32 hex digits."""
    return secrets.token_hex(16)


def is_student_key(value: object) -> bool:
    """Whether ``value`` has the form of a key ``new_student_key`` makes (a cookie is the browser's to change)."""
    return isinstance(value, str) and _STUDENT_KEY.fullmatch(value) is not None
