"""A lecture hall: two Streamlit processes behind HAProxy (``python -m serve``, what
``make run REPLICAS=2`` runs), one class store, one training run, and nothing left behind.

The hall gets free ports, a class database and a checkpoint folder of its own (links to the
shipped checkpoints: a run saves there, never in checkpoints/), a known teacher token, and its
hall.json, haproxy.cfg and logs in a temporary folder. Each browser context is one student's or
the teacher's browser: which process answered is read from the sidebar ("server process i of 2"),
from HAProxy's cookie and from the ``X-CNNX-Server`` header of every answer.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from benchmarks.load_students import DRAWN_DIGITS, digit_strokes, in_fresh_loop, sticky_errors
from benchmarks.wire_student import WireSession
from core.classroom import store, teacher
from core.classroom.db import DB_ENV
from core.classroom.lesson_mode.live import LessonLive
from core.models import checkpoints
from serve.haproxy import COOKIE, SERVER_HEADER
from tests.harness import (
    LAPTOP,
    METRIC,
    ROOT,
    STROKES,
    draw,
    free_port,
    needs_lenet5,
    open_page,
    screenshot,
    shipped_checkpoints_in,
    wait_idle,
)

pytestmark = [
    pytest.mark.server,  # python -m serve: Streamlit processes behind HAProxy, started in a subprocess
    pytest.mark.skipif(
        shutil.which("haproxy") is None,
        reason="HAProxy is not installed: `make test` installs it as root (apt-get install -y haproxy)",
    ),
]

TOKEN = "lecture-hall-test-token"
SIDEBAR = "[data-testid='stSidebar']"
COUNTS = ".st-key-wall_counts [data-testid='stMetricValue']"
START_S = 180  # two Streamlit processes importing torch on two busy cores


@dataclass
class Hall:
    url: str
    supervisor: subprocess.Popen
    folder: Path
    state: dict = field(default_factory=dict)  # hall.json: the PIDs

    @property
    def db(self) -> Path:
        return self.folder / "class.sqlite"

    @property
    def checkpoints(self) -> Path:
        return self.folder / "checkpoints"

    def pids(self) -> list[int]:
        return [self.state["supervisor"], self.state["haproxy"], *(s["pid"] for s in self.state["servers"])]

    def output(self) -> str:
        return (self.folder / "supervisor.log").read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.supervisor.poll() is None:
            self.supervisor.send_signal(signal.SIGINT)
            try:
                self.supervisor.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.supervisor.pid, signal.SIGKILL)
                self.supervisor.wait()


def start_hall(folder: Path, replicas: int) -> Hall:
    """``python -m serve`` in a session of its own (its process group is what a terminal's
    Ctrl-C reaches); returns once HAProxy answers with a healthy process behind it."""
    ckpt = shipped_checkpoints_in(folder)
    port = free_port()
    env = {
        **os.environ,
        DB_ENV: str(folder / "class.sqlite"),
        "CNN_EXPLAINER_CHECKPOINTS": str(ckpt),
        teacher.TOKEN_ENV: TOKEN,
        "CNN_EXPLAINER_THREADS": "1",
        "CNN_EXPLAINER_JOBS_DIR": str(folder / "jobs"),
    }
    with open(folder / "supervisor.log", "wb") as log:
        supervisor = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "serve",
                "--replicas",
                str(replicas),
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--artifacts",
                str(folder),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    hall = Hall(f"http://127.0.0.1:{port}", supervisor, folder)
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        if supervisor.poll() is not None:
            pytest.fail(f"python -m serve exited with {supervisor.returncode}: {hall.output()}")
        if (folder / "hall.json").exists():
            try:
                with urllib.request.urlopen(hall.url + "/_stcore/health", timeout=5) as answer:
                    if answer.status == 200:
                        hall.state = json.loads((folder / "hall.json").read_text())
                        return hall
            except OSError:
                pass  # HAProxy's first health checks have not passed yet
        time.sleep(0.5)
    hall.stop()
    pytest.fail(f"the hall did not answer within {START_S} s: {hall.output()}")


def alive(pid: int) -> bool:
    """Whether a process is there and not a zombie (a zombie has ended; its parent has not looked)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return not re.search(r"^State:\s+Z", status, re.M)


def wait_gone(pids: list[int], timeout_s: float) -> list[int]:
    """The PIDs still running after ``timeout_s`` (none, if all ended)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.2)
    return [p for p in pids if alive(p)]


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    hall = start_hall(tmp_path_factory.mktemp("hall"), replicas=2)
    yield hall
    hall.stop()


# --- two browsers, each on its own process -------------------------------------------------------


@dataclass
class Browser:
    """One person's browser: its context, its page, and every process that answered it."""

    context: object
    page: object
    servers: list = field(default_factory=list)  # X-CNNX-Server of every HTTP answer

    @property
    def cookie(self) -> str | None:
        return next((c["value"] for c in self.context.cookies() if c["name"] == COOKIE), None)

    def process(self) -> int:
        """The "server process i of 2" the sidebar shows."""
        found = re.search(r"server process (\d) of 2", self.page.locator(SIDEBAR).inner_text())
        assert found, self.page.locator(SIDEBAR).inner_text()
        return int(found[1])


def new_browser(browser, url: str, path: str) -> Browser:
    context = browser.new_context(**LAPTOP)
    page = context.new_page()
    seen = Browser(context, page)
    page.on("response", lambda answer: seen.servers.append(answer.headers.get(SERVER_HEADER.lower())))
    open_page(page, url + path)
    return seen


@pytest.fixture(scope="module")
def two(hall, browser):
    """A student's browser and the teacher's, on the two processes. The student's lands where
    HAProxy sends it; the teacher's then lands on the other (``balance leastconn``: the student's
    websocket is open on the first), or, should it not, is sent there by its cookie."""
    student = new_browser(browser, hall.url, "/draw")
    teacher_ = new_browser(browser, hall.url, "/draw")
    if teacher_.cookie == student.cookie:
        other = "s2" if student.cookie == "s1" else "s1"
        teacher_.context.add_cookies([{"name": COOKIE, "value": other, "url": hall.url}])
        open_page(teacher_.page, hall.url + "/draw")
    yield student, teacher_
    student.context.close()
    teacher_.context.close()


def test_each_browser_stays_on_one_process_across_reruns_and_page_switches(hall, two):
    student, teacher_ = two
    assert {student.cookie, teacher_.cookie} == {"s1", "s2"}
    first = {id(b): (b.cookie, b.process()) for b in two}
    for person in two:
        cookie, process = first[id(person)]
        assert cookie == f"s{process}"  # HAProxy's cookie names the process the sidebar shows
        page = person.page
        draw(page, STROKES["stem"])  # a rerun from a widget
        page.wait_for_selector(METRIC, timeout=60_000)
        wait_idle(page)
        for link in ("Class wall", "Training", "Draw a digit"):  # page switches within the session
            page.get_by_role("link", name=link).click()
            wait_idle(page)
            assert (person.cookie, person.process()) == (cookie, process), link
        page.reload()  # a new websocket, a new session: the cookie still holds it
        wait_idle(page)
        assert (person.cookie, person.process()) == (cookie, process)
        answered = set(person.servers) - {None}
        assert answered == {cookie}, answered  # every answer, media and static files included
        assert len(person.servers) > 20  # the page's files, pictures and health: many answers checked


@needs_lenet5
def test_a_digit_sent_on_one_process_is_on_the_teachers_wall_served_by_the_other(hall, two):
    student, teacher_ = two
    wall = teacher_.page
    open_page(wall, hall.url + f"/class?teacher={TOKEN}")
    assert wall.locator(COUNTS).first.inner_text().strip() == "0"
    page = student.page
    open_page(page, hall.url + "/draw")
    draw(page, STROKES["stem"])
    page.wait_for_selector(METRIC, timeout=60_000)
    wait_idle(page)
    said = page.locator(METRIC).first.inner_text().strip()
    page.locator(".st-key-send_label button").filter(has_text=re.compile(r"^1$")).first.click()
    wait_idle(page)
    page.locator(".st-key-send_button").get_by_role("button").click()
    page.get_by_text(f"your 1, the network said {said}").wait_for(timeout=20_000)
    # The wall polls the one store every second, from the other process.
    wall.wait_for_function(
        """() => { const v = document.querySelector(".st-key-wall_counts [data-testid='stMetricValue']");
                   return v !== null && v.innerText.trim() === "1"; }""",
        timeout=15_000,
    )
    assert student.process() != teacher_.process()
    [entry] = store.ClassStore(hall.db).entries()
    assert (entry.label, entry.prediction) == (1, int(said))
    under = wall.locator(".st-key-wall_chart text.annotation-text").first  # "1 → 1 98%" under the digit
    under.wait_for(timeout=15_000)
    assert re.fullmatch(rf"\s*1\s*→\s*{said}\s+\d+%\s*", under.text_content()), under.text_content()
    screenshot(wall, "lecture_hall_wall_from_the_other_process")


def test_a_lesson_led_on_one_process_is_followed_by_a_student_on_the_other(hall, two):
    student, teacher_ = two
    lessons = LessonLive(store.ClassStore(hall.db))
    open_page(teacher_.page, hall.url + f"/?teacher={TOKEN}")
    try:
        teacher_.page.get_by_text("Lesson mode").first.click()
        teacher_.page.locator(".st-key-lesson_start").get_by_role("button").click()
        teacher_.page.wait_for_url("**/dataset?digit=7", timeout=30_000)  # the teacher's own page goes too
        student.page.wait_for_url("**/dataset?digit=7", timeout=30_000)  # polled from the other process
        teacher_.page.locator(".st-key-lesson_next").get_by_role("button").click()
        student.page.wait_for_url("**/convolution?conv_kernel=Sharpen", timeout=30_000)
        student.page.locator(".st-key-lesson_banner").get_by_text("Step 2 of 9").wait_for(timeout=20_000)
        assert student.process() != teacher_.process() and lessons.now().step == 1
    finally:
        lessons.end()


def start_form(page, name: str) -> None:
    for key, value in (("tr_epochs", "2"), ("tr_limit", "30000"), ("tr_name", name)):
        box = page.locator(f".st-key-{key} input")
        box.fill(value)
        box.press("Enter")
        wait_idle(page)
    page.locator(".st-key-tr_start").get_by_role("button").click()
    wait_idle(page)


def main_text(page) -> str:
    return page.locator("[data-testid='stMain']").inner_text()


def test_a_second_training_run_is_refused_from_the_other_process_which_shows_it_and_stops_it(hall, two):
    student, teacher_ = two
    runs_on, other = teacher_.process(), student.process()
    trainer, watcher = teacher_.page, student.page  # both teachers here: the token, once each
    open_page(trainer, hall.url + f"/training?teacher={TOKEN}")
    start_form(trainer, "hall_run")
    trainer.get_by_text(re.compile(r"^(Loading the data|Epoch 1/2)")).first.wait_for(timeout=30_000)

    open_page(watcher, hall.url + f"/training?teacher={TOKEN}")
    assert student.process() == other != runs_on
    # The other process shows the run's progress, read from the group's files.
    watcher.get_by_text(re.compile(r"^Epoch 1/2, batch \d+/")).first.wait_for(timeout=60_000)
    assert watcher.get_by_text(re.compile(r"^Run \d+: hall_run$")).count() == 1
    start_form(watcher, "second_run")
    refusal = watcher.locator("[data-testid='stAlertContentWarning']").filter(has_text="Not started")
    refusal.first.wait_for(timeout=10_000)
    assert re.search(
        rf"already in progress \(hall_run, started [\d:]+, on server process {runs_on} of 2\)",
        refusal.first.inner_text(),
    ), refusal.first.inner_text()
    screenshot(watcher, "lecture_hall_training_refused_on_the_other_process")

    watcher.locator(".st-key-tr_stop").get_by_role("button").click()  # Stop, from the other process
    wait_idle(watcher)
    trainer.get_by_text(re.compile(r"^Stopped: stopped during epoch")).first.wait_for(timeout=60_000)
    record = checkpoints.read_info("hall_run", hall.checkpoints).record
    assert record["stopped"] is True and not (hall.checkpoints / "second_run.json").exists()
    watcher.get_by_text(re.compile(r"^Stopped: stopped during epoch")).first.wait_for(timeout=30_000)

    # The run saved on one process is in the other process's model picker, without a restart.
    open_page(watcher, hall.url + "/draw?draw_model=hall_run")
    assert student.process() == other
    # The picker shows a run by its short name, the checkpoint's own name in brackets.
    assert watcher.locator(".st-key-draw_model_shown input").input_value().endswith("(hall_run)")
    assert watcher.locator("[data-testid='stAlertContentWarning']").filter(has_text="hall_run").count() == 0


# --- the class store: written by both processes at once -------------------------------------------


@needs_lenet5
def test_students_on_both_processes_send_at_once_and_the_store_keeps_every_digit(hall):
    """Six students over the websocket, three held on each process by HAProxy's cookie, each
    sending three digits as fast as the store allows (one a second): 18 rows in the one file."""
    before = store.ClassStore(hall.db).summary()

    async def student(server: str) -> tuple[list[str], WireSession]:
        session = await WireSession.open(hall.url, "draw", cookie=f"{COOKIE}={server}")
        said = []
        try:
            for k, meant in enumerate(DRAWN_DIGITS):
                drawn = await session.draw(digit_strokes(k))
                sent = await session.send_to_class(meant)
                said.append(drawn.errors + sent.errors + ([] if sent.shows("Sent as Student") else ["not sent"]))
                await asyncio.sleep(1.05)  # the store takes one digit a second from a browser session
        finally:
            await session.close()
        return said, session

    async def classroom():
        return await asyncio.gather(*(student(server) for server in ["s1", "s2"] * 3))

    results = in_fresh_loop(classroom())
    assert [said for said, _ in results] == [[[], [], []]] * 6
    for (_, session), server in zip(results, ["s1", "s2"] * 3):
        assert session.served_by == server and sticky_errors(session) == []
        assert any(f"server process {server[1]} of 2" in t for t in session.opened.texts)
    after = store.ClassStore(hall.db).summary()
    assert (after["entries"] - before["entries"], after["students"] - before["students"]) == (18, 6)
    added = {label: after["by_label"][label] - n for label, n in before["by_label"].items()}
    assert {label: n for label, n in added.items() if n} == {"1": 6, "0": 6, "7": 6}  # three of each, per student

    # The rig's check can fail: a picture fetched with the other process's cookie is caught.
    async def strayed() -> list[str]:
        session = await WireSession.open(hall.url, "draw", cookie=f"{COOKIE}=s1")
        try:
            run = await session.draw(digit_strokes(0))
            session.cookie = f"{COOKIE}=s2"
            await session._fetch(run.media[0])
            session.cookie = f"{COOKIE}=s1"
        finally:
            await session.close()
        return sticky_errors(session)

    assert any("by s2, cookie s1" in error for error in in_fresh_loop(strayed()))


# --- a process that dies ---------------------------------------------------------------------------


@needs_lenet5
def test_a_process_that_dies_is_restarted_and_its_students_are_served_meanwhile(hall):
    """Server process 1 killed outright: a student whose cookie names it is served all the same
    (HAProxy sends a refused connection to process 2, and its health check soon takes process 1
    out), and the supervisor starts process 1 again, which then has its students back."""
    victim = hall.state["servers"][0]
    os.kill(victim["pid"], signal.SIGKILL)

    async def a_student_of_s1() -> tuple[str | None, str | None]:
        try:
            session = await WireSession.open(hall.url, "draw", cookie=f"{COOKIE}=s1", timeout_s=30)
        except Exception as exc:  # e.g. HTTP 502 while the dead process's connections are torn down
            return f"refused: {exc}", None
        try:
            return session.served_by, (await session.draw(digit_strokes(0))).prediction
        finally:
            await session.close()

    # A browser reconnects by itself when its websocket drops: so does this student, once a second.
    tries, deadline = [], time.monotonic() + 30
    while not tries or (tries[-1][1] is None and time.monotonic() < deadline):
        tries.append(in_fresh_loop(a_student_of_s1()))
        time.sleep(0 if tries[-1][1] else 1)
    served_by, prediction = tries[-1]
    assert served_by in ("s1", "s2") and prediction == str(DRAWN_DIGITS[0]), (tries, hall.output())

    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        hall.state = json.loads((hall.folder / "hall.json").read_text())
        restarted = hall.state["servers"][0]
        if restarted["pid"] != victim["pid"] and in_fresh_loop(a_student_of_s1()) == ("s1", str(DRAWN_DIGITS[0])):
            break
        time.sleep(1)
    else:
        pytest.fail(f"server process 1 was not back within {START_S} s: {hall.output()}")
    assert restarted["restarts"] == 1 and alive(restarted["pid"]) and not alive(victim["pid"])
    assert f"server 1 (pid {victim['pid']}) exited" in hall.output()


# --- stopping: nothing left behind -----------------------------------------------------------------


def test_sigint_to_the_supervisor_stops_every_process_of_the_hall(hall):
    hall.state = json.loads((hall.folder / "hall.json").read_text())  # a restarted process has a new PID
    pids = hall.pids()
    assert len(pids) == 4 and all(alive(p) for p in pids), hall.state  # supervisor, HAProxy, 2 servers
    hall.supervisor.send_signal(signal.SIGINT)
    assert hall.supervisor.wait(30) == 0, hall.output()
    assert wait_gone(pids, 10) == [], hall.output()
    assert not (hall.folder / "hall.json").exists()


@pytest.mark.parametrize("how", ["ctrl-c", "sigkill"])
def test_ctrl_c_or_a_killed_supervisor_leaves_no_process_behind(tmp_path, how):
    """Ctrl-C in a terminal signals the whole process group (make, the supervisor, its children);
    a supervisor killed outright (SIGKILL) cannot stop anyone: its children end by themselves
    (Linux's parent-death signal)."""
    if how == "sigkill" and not sys.platform.startswith("linux"):
        pytest.skip("the parent-death signal is Linux's")
    small = start_hall(tmp_path, replicas=1)
    pids = small.pids()
    assert all(alive(p) for p in pids)
    if how == "ctrl-c":
        os.killpg(small.supervisor.pid, signal.SIGINT)
    else:
        small.supervisor.kill()
    small.supervisor.wait(30)
    assert wait_gone(pids, 20) == [], small.output()
