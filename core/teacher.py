"""Who is the teacher: whoever uses the server's own machine, or opened the teacher link once.

The token is printed in the terminal when the server starts, as Jupyter prints its token
(``make run`` does it; a bare ``streamlit run`` prints it when the first page opens).
``CNN_EXPLAINER_TEACHER_TOKEN`` sets it, so several server processes share one; otherwise it is
random for each start. ``CNN_EXPLAINER_LOCAL_TEACHER=0`` stops the loopback rule (how a test
plays a student from localhost, and what ``make run REPLICAS=N`` sets: behind HAProxy every
browser arrives from the loopback address). A token is compared in constant time.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import os
import secrets

TOKEN_ENV = "CNN_EXPLAINER_TEACHER_TOKEN"
LOCAL_ENV = "CNN_EXPLAINER_LOCAL_TEACHER"
PARAM = "teacher"  # ?teacher=TOKEN on any page, once per browser session


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
