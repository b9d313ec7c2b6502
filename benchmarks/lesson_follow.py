"""Lesson mode under a class: how soon the students' pages follow the teacher's step, and what the
pages' polling costs the server while nothing changes.

A server of its own (its own class database; localhost is not the teacher) and ``--students``
browser-less students (``benchmarks.wire_student``: Streamlit's own websocket, what a browser
sends), each with a student key of its own in the ``cnnx_student`` cookie. Each student does what
a browser tab does by itself: every ``run_every`` fragment the page registered is a timer that
sends that fragment's rerun every interval (the lesson's fragment above every page: every
``POLL_S`` = 1 s while a lesson runs, ``IDLE_POLL_S`` = 3 s otherwise; a tab's timers take turns
on its one websocket here). When a poll's answer holds the lesson's
``<span data-lesson-go="/page?query">`` the student loads that link as ``window.location.replace``
does: it fetches the page's HTML, closes the websocket and opens a new session on the link's page
and query with the same cookie, whose first full run is the page drawn.

In order: every step's page is opened once first (a class's server has served them before; not
counted); the server's CPU with nobody connected (the floor), then with the students on Home and
no lesson (3-s polls); the teacher starts the default lesson (step 1, /dataset) and the pages go
there; the CPU with the lesson running and no change (1-s polls); then ``--steps`` times the
teacher's Next (``LessonLive.next()`` from this process on the server's class database, as the
teacher's click writes it), each 2 to 5 s (at random: ``--seed``) after every student's page has
drawn the last step, so that the click falls anywhere in the pages' poll cycles. A step's delay is
timed from that write to each student's poll that saw the link ("poll saw it") and to the new
page's first run finished ("page drawn"). A class that loaded a step together polls nearly in
step, so one step's delays move together: five steps are five draws of where the click fell.

    .venv/bin/python -m benchmarks.lesson_follow [--students 30] [--steps 5] [--idle 30]

Printed: the delays' p50 / p95 / max over all students x steps (and, apart, the lesson's start
reaching pages that poll every 3 s), and for each idle phase the server's CPU seconds per wall
second (the server process and its children, from /proc), the polls sent and the server's
milliseconds per poll above the floor. This rig's own Python runs on the same machine: its CPU is
printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import random
import re
import secrets
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.load_figures import cpu_seconds, percentiles
from benchmarks.wire_student import WireSession
from core.classroom import teacher
from core.classroom.db import DB_ENV
from core.classroom.lesson_mode.live import LessonLive
from core.classroom.lesson_mode.plans import DEFAULT
from core.classroom.store import ClassStore
from serve.streamlit_process import start as start_streamlit

GO_ATTRIBUTE = re.compile(r'data-lesson-go="([^"]*)"')
SETTLE_S = 2.0  # after every page has drawn a step, before the next: media fetched, the server calm
# ... and up to this much more, at random: the teacher's click falls anywhere in the pages' poll
# cycles (a fixed wait would press it at the same point of every cycle, the pages having loaded together).
JITTER_S = 3.0


def lesson_link(htmls: list[str]) -> str | None:
    """The link a page was told to load (the lesson's ``data-lesson-go``), None when none."""
    for body in htmls:
        found = GO_ATTRIBUTE.search(body)
        if found:
            return html.unescape(found.group(1))
    return None


def page_and_query(link: str) -> tuple[str, str]:
    """A link's page name as a browser sends it ("" for Home) and its query string."""
    parts = urllib.parse.urlsplit(link)
    return parts.path.strip("/"), parts.query


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process, its children that have ended (waited for) and those still running."""
    total = cpu_seconds(pid) or 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")  # cutime, cstime
    except (OSError, IndexError, ValueError):
        pass
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:  # its parent
                total += tree_cpu_seconds(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return total


@dataclass
class Move:
    link: str
    seen: float  # monotonic: the poll that carried the link had finished
    drawn: float  # monotonic: the new page's first run had finished


@dataclass
class Student:
    url: str
    key: str = field(default_factory=teacher.new_student_key)
    session: WireSession | None = None
    polls: list[tuple[float, float]] = field(default_factory=list)  # (when it was answered, its round trip)
    moves: list[Move] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def cookie(self) -> str:
        return f"{teacher.STUDENT_COOKIE}={self.key}"

    async def load(self, link: str) -> None:
        """Open ``link`` as a new tab's session, as the browser does for ``window.location.replace``."""
        page, query = page_and_query(link)
        await asyncio.to_thread(self._fetch_html, link)
        self.session = await WireSession.open(self.url, page, query=query, cookie=self.cookie, keep_query=True)
        self.errors.extend(self.session.opened.errors)
        if lesson_link(self.session.opened.htmls) is not None:
            self.errors.append(f"{link} was told to load a link again when it opened")

    def _fetch_html(self, link: str) -> None:
        request = urllib.request.Request(self.url + link, headers={"Cookie": self.cookie})
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()

    async def follow(self, stop: asyncio.Event) -> None:
        """Poll as the page's timers do; load each link a poll carries; until ``stop``."""
        try:
            while not stop.is_set():
                link = await self._poll_until_link(stop)
                if link is None:
                    break
                seen = time.monotonic()
                await self.session.close()
                await self.load(link)
                self.moves.append(Move(link, seen, time.monotonic()))
        except Exception as exc:  # noqa: BLE001 (a student that fails is counted, the others go on)
            self.errors.append(f"{type(exc).__name__}: {exc}")

    async def _poll_until_link(self, stop: asyncio.Event) -> str | None:
        session = self.session
        due: dict[str, float] = {}
        while not stop.is_set():
            now = time.monotonic()
            for fragment_id, interval in session.auto_reruns.items():
                due.setdefault(fragment_id, now + interval)  # a timer starts when the page registers it
            for fragment_id in set(due) - set(session.auto_reruns):
                del due[fragment_id]
            if not due:
                await stop.wait()
                return None
            fragment_id = min(due, key=due.get)
            try:
                await asyncio.wait_for(stop.wait(), max(0.0, due[fragment_id] - now))
                return None
            except TimeoutError:
                pass
            run = await session.poll(fragment_id)
            self.polls.append((time.monotonic(), run.seconds))
            self.errors.extend(run.errors)
            interval = session.auto_reruns.get(fragment_id, 0.0)
            while interval and due[fragment_id] <= time.monotonic():  # a timer's missed ticks are skipped
                due[fragment_id] += interval
            link = lesson_link(run.htmls)
            if link is not None:
                return link
        return None


async def idle(seconds: float, pid: int, students: list[Student]) -> dict:
    """The server's CPU (and this rig's) over ``seconds`` of the students doing what they do."""
    cpu, rig = tree_cpu_seconds(pid), cpu_seconds(os.getpid())
    began = time.monotonic()
    await asyncio.sleep(seconds)
    ended = time.monotonic()
    server, rig = (tree_cpu_seconds(pid) - cpu) / (ended - began), ((cpu_seconds(os.getpid()) or 0.0) - (rig or 0.0))
    trips = [trip for s in students for at, trip in s.polls if began <= at < ended]
    return {"wall": ended - began, "server": server, "rig": rig / (ended - began), "polls": len(trips), "trips": trips}


async def all_moved(students: list[Student], count: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while any(len(s.moves) < count and not s.errors for s in students) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


async def measure(url: str, pid: int, lessons: LessonLive, args) -> dict:
    load = os.getloadavg()
    for step in DEFAULT.steps[: args.steps + 1]:  # each page opened once: imports, first plots
        page, query = page_and_query(step.link)
        await (await WireSession.open(url, page, query=query)).close()
    await (await WireSession.open(url, "")).close()
    await asyncio.sleep(SETTLE_S)
    floor = await idle(args.idle, pid, [])

    students = [Student(url) for _ in range(args.students)]
    opening = asyncio.Semaphore(4)  # the class arrives over a few seconds, not in one millisecond

    async def arrive(student: Student) -> None:
        async with opening:
            await student.load("/")

    await asyncio.gather(*(arrive(s) for s in students))
    chance = random.Random(args.seed)
    stop = asyncio.Event()
    following = [asyncio.create_task(s.follow(stop)) for s in students]
    await asyncio.sleep(SETTLE_S)
    no_lesson = await idle(args.idle, pid, students)

    await asyncio.sleep(chance.uniform(0, JITTER_S))
    started = time.monotonic()
    lessons.start(DEFAULT)
    await all_moved(students, 1, args.timeout)
    starts = [(s.moves[0].seen - started, s.moves[0].drawn - started) for s in students if s.moves]
    await asyncio.sleep(SETTLE_S)
    running = await idle(args.idle, pid, students)

    steps = []
    for k in range(1, args.steps + 1):
        await asyncio.sleep(chance.uniform(0, JITTER_S))
        moved = time.monotonic()
        lessons.next()
        await all_moved(students, k + 1, args.timeout)
        steps.append(
            (
                DEFAULT.steps[k].link,
                [(s.moves[k].seen - moved, s.moves[k].drawn - moved) for s in students if len(s.moves) > k],
            )
        )
        await asyncio.sleep(SETTLE_S)
    lessons.end()
    stop.set()
    await asyncio.gather(*following)
    for student in students:
        if student.session is not None:
            await student.session.close()
    errors = [e for s in students for e in s.errors]
    missing = args.students * (args.steps + 1) - len(starts) - sum(len(pairs) for _link, pairs in steps)
    return {
        "load": load,
        "floor": floor,
        "no_lesson": no_lesson,
        "running": running,
        "starts": starts,
        "steps": steps,
        "errors": errors + [f"{missing} page(s) never followed"] * bool(missing),
    }


def report(result: dict, args) -> str:
    def ms(values: list[float]) -> str:
        """p50 / p95 / max of seconds, in milliseconds."""
        p50, p95 = percentiles(values)
        return f"{p50 * 1000:,.0f} / {p95 * 1000:,.0f} / {max(values) * 1000:,.0f}" if values else "-"

    def row(label: str, pairs: list[tuple[float, float]]) -> str:
        seen, drawn = [pair[0] for pair in pairs], [pair[1] for pair in pairs]
        return f"  {label:<50} {len(pairs):>5} {ms(seen):>22} {ms(drawn):>22}"

    every = [pair for _link, pairs in result["steps"] for pair in pairs]
    lines = [
        f"{args.students} students, {args.steps} steps of the default lesson (steps 1 -> {args.steps + 1}), "
        f"seed {args.seed}; load average {result['load'][0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, "
        f"on {os.cpu_count()} cores",
        f"  {'follow delay, ms (p50 / p95 / max)':<50} {'pages':>5} {'poll saw it':>22} {'page drawn':>22}",
        row("every step (pages polling every 1 s)", every),
        *(row(f"  to {link}", pairs) for link, pairs in result["steps"]),
        row("the start, to /dataset (pages polling every 3 s)", result["starts"]),
        f"  {'server CPU while nothing changes':<50} {'CPU s/s':>8} {'polls/s':>8} {'ms/poll':>8} "
        f"{'poll round trip p50/p95':>24} {'rig CPU s/s':>12}",
    ]
    floor = result["floor"]["server"]
    for label, phase in (
        ("nobody connected (the floor)", result["floor"]),
        (f"{args.students} on Home, no lesson (3-s polls)", result["no_lesson"]),
        (f"{args.students} on step 1, lesson running (1-s polls)", result["running"]),
    ):
        per_poll = (phase["server"] - floor) * phase["wall"] / phase["polls"] * 1000 if phase["polls"] else None
        p50, p95 = percentiles(phase["trips"])
        lines.append(
            f"  {label:<50} {phase['server']:>8.3f} {phase['polls'] / phase['wall']:>8.1f} "
            f"{f'{per_poll:.1f}' if per_poll is not None else '-':>8} "
            f"{f'{p50 * 1000:.0f} / {p95 * 1000:.0f} ms' if p50 is not None else '-':>24} {phase['rig']:>12.3f}"
        )
    lines.append("  ms/poll: the server's CPU above the floor per poll")
    lines.append(f"errors: {len(result['errors'])}")
    lines += ["  " + error for error in result["errors"][:10]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument(
        "--steps", type=int, default=5, help=f"Next pressed this often (at most {len(DEFAULT.steps) - 1})"
    )
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of each CPU measurement")
    parser.add_argument("--seed", type=int, default=0, help="the teacher's clicks' places in the poll cycles")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds a step may take to reach every page")
    args = parser.parse_args()
    args.steps = max(1, min(args.steps, len(DEFAULT.steps) - 1))
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "class.sqlite"
        env = {DB_ENV: str(db), teacher.LOCAL_ENV: "0", teacher.TOKEN_ENV: secrets.token_urlsafe(16)}
        lessons = LessonLive(ClassStore(db))
        server = start_streamlit(env=env)
        try:
            result = asyncio.run(measure(server.url, server.process.pid, lessons, args))
        finally:
            server.stop()
    print(report(result, args))


if __name__ == "__main__":
    main()
