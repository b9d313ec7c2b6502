"""The design challenge's queue in a real server: killed in the middle of an entry, restarted, it
resumes from that entry and loses nothing submitted."""

from __future__ import annotations

import dataclasses
import time

from benchmarks.load_students import in_fresh_loop
from benchmarks.wire_student import WireSession
from core.classroom import teacher
from core.classroom.db import DB_ENV
from core.classroom.design_challenge.scoring import DONE, QUEUED, TRAINING, Rules
from core.classroom.design_challenge.submissions import Challenges
from core.classroom.store import ClassStore
from core.models import checkpoints
from tests.harness import start_streamlit

SLOW = Rules(images=60_000, epochs=5, seconds=600, test_images=300)  # minutes of training: killed inside it
QUICK = dataclasses.replace(SLOW, images=600, epochs=1)


def _open_design(url: str) -> None:
    """A student opens /design: the page that shows an open challenge starts the server's queue thread."""

    async def visit() -> None:
        session = await WireSession.open(url, "design")
        await session.close()

    in_fresh_loop(visit())  # the suite's browser tests may hold an event loop in this thread


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_a_server_killed_mid_entry_resumes_that_entry_after_a_restart(tmp_path):
    (tmp_path / "ck").mkdir()
    env = {
        DB_ENV: str(tmp_path / "class.sqlite"),
        "CNN_EXPLAINER_CHECKPOINTS": str(tmp_path / "ck"),
        "CNN_EXPLAINER_JOBS_DIR": str(tmp_path / "jobs"),
        teacher.LOCAL_ENV: "0",
    }
    store = ClassStore(tmp_path / "class.sqlite")
    challenges = Challenges(store)
    challenge = challenges.open("c", SLOW)
    first = challenges.submit(challenge.id, student_key="a", nickname="A", notation="dense12 relu", now=1.0)
    second = challenges.submit(challenge.id, student_key="b", nickname="B", notation="dense4 relu", now=2.0)

    server = start_streamlit(env=env)
    try:
        _open_design(server.url)
        assert _wait_for(lambda: challenges.entry(first.id).status == TRAINING, 60)
        time.sleep(1.0)  # well inside its five epochs of 60,000 images
    finally:
        server.process.kill()  # no goodbye: as a machine losing power
        server.process.wait(30)
    assert [challenges.entry(e.id).status for e in (first, second)] == [TRAINING, QUEUED]  # nothing lost

    with store.db.transaction(write=True) as db:  # the rest of the lesson on a smaller budget: a quick test
        db.execute("UPDATE challenges SET rules = ? WHERE id = ?", (QUICK.to_json(), challenge.id))
    server = start_streamlit(env=env)
    try:
        _open_design(server.url)
        assert _wait_for(lambda: all(challenges.entry(e.id).status == DONE for e in (first, second)), 120)
    finally:
        server.stop()
    entries = {e.id: e for e in challenges.entries(challenge.id)}
    assert {entries[first.id].rank, entries[second.id].rank} == {1, 2}
    record = checkpoints.read_info(entries[first.id].checkpoint, tmp_path / "ck").record
    assert record["challenge"]["entry"] == first.id and record["recipe"]["limit"] == QUICK.images
