"""A classroom's load on one server: N students drawing on /draw while a training job runs.

A training run is started on ``/training`` first, so the students share the machine with it.
Then each student draws a digit, waits for the prediction, looks at it, clears and draws again
until the time is up (each at least once), at a set pace (``--draw-seconds`` to draw,
``--look-seconds`` to look).

Students come in two kinds, because headless Chromium renders every page and thirty of them on
the server's own two cores measure the browsers, not the server:

- ``--browsers B`` of them (default 1) are headless-Chromium pages drawing on the real canvas
  with the mouse; their latency is from mouse-up to the prediction shown on the page.
- The others speak Streamlit's websocket protocol (``benchmarks/wire_student.py``): they send
  the very message the canvas sends on mouse-up and fetch the page's pictures, as a student's
  own laptop would; their latency is from sending it to the prediction's arrival.

Reported: p50 / p95 of each kind's latency, the time to open /draw, errors (must be 0), the
number of predictions, the server's peak memory (VmHWM of the Streamlit process), and how busy
the server and this rig were.

    .venv/bin/python -m benchmarks.classroom_load --students 10 --seconds 60
    .venv/bin/python -m benchmarks.classroom_load --students 30 --seconds 90 --json
    .venv/bin/python -m benchmarks.classroom_load --students 10 --browsers 10   # all in Chromium

The server gets its own checkpoint folder (a copy of the shipped ones), so the training run's
checkpoint never lands in ``checkpoints/``.

``--class-mode``: the students send every digit they draw to the class (/draw's Send panel:
the digit they meant, then Send) and, with ``--wall`` (the default in class mode), a teacher's
Chromium keeps the class wall (/class) open. Reported besides: how long a sent digit took to be
on the teacher's wall, from the store's time of the entry to the first moment the wall's
"Digits" count included it (the k-th entry is on the wall once the count reaches k: the count
is of the session's entries, newest first, none hidden). ``--no-wall`` measures the same class
with the wall closed, for a side-by-side comparison.

    .venv/bin/python -m benchmarks.classroom_load --students 30 --seconds 300 --draw-seconds 5 \
        --look-seconds 10 --class-mode            # and again with --no-wall

``--url`` measures a server already running instead, e.g. a lecture hall (``make run REPLICAS=2``:
several processes behind HAProxy). Its processes are found in ``artifacts/hall.json`` (else the
one listening on the URL's port) for their CPU and memory. Behind HAProxy every student keeps
the load balancer's cookie, as a browser does, and the rig checks that it held: the websocket,
the page (its "server process i of N") and every picture fetched came from one process, each
picture answered 200, and the cookie never changed; any slip is an error of the run. The
training run is started with the teacher link's token (``--teacher-token``, else
``CNN_EXPLAINER_TEACHER_TOKEN``) under a name of its own, in the server's checkpoint folder:
start the server with ``CNN_EXPLAINER_CHECKPOINTS`` on a copy, or pass ``--no-training``.

    make run REPLICAS=2 &      # in another terminal, with CNN_EXPLAINER_TEACHER_TOKEN exported
    .venv/bin/python -m benchmarks.classroom_load --url http://127.0.0.1:8501 --students 30
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.wire_student import WireSession
from serve.haproxy import COOKIE, SERVER_HEADER
from serve.streamlit_process import ROOT
from tests.harness import CHROMIUM_FLAGS, FINISHED, SCREENSHOTS, chromium_path, start_streamlit

HALL_STATE = ROOT / "artifacts" / "hall.json"  # serve/hall.py: the PIDs of a running lecture hall

METRIC = "[data-testid='stMetricValue']"
EXCEPTION = "[data-testid='stException']"
CANVAS = "canvas.upper-canvas"


DRAWN_DIGITS = (1, 0, 7)  # what digit_strokes(k) draws, by k % 3


def digit_strokes(k: int) -> list[list[tuple[float, float]]]:
    """A few digit shapes on the 280x280 canvas: a one, a zero, a seven. Each student draws a new
    one each time: a shape of its own for 24 drawings (a slant, a width, a bar's length), since the
    class store takes the same 28x28 digit sent again as the same entry, and a mere shift is the
    same digit once it is centred as MNIST's are. k < 3 are the plain shapes."""
    dx, s = (k % 5) * 6 - 12, (k // 3) % 8
    one = [(140 + dx + 0.8 * s * i, 45 + 10 * i) for i in range(20)]
    zero = [
        (140 + dx + (65 - 3 * s) * math.sin(a), 140 - 95 * math.cos(a))
        for a in [2 * math.pi * i / 40 for i in range(41)]
    ]
    seven = [(70 + dx + 7 * i, 50) for i in range(20 - s)] + [(210 + dx - 4 * i, 50 + 10 * i) for i in range(1, 20)]
    return [[one], [zero], [seven]][k % 3]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used so far, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def rss_mb(pid: int, field: str = "VmHWM") -> float | None:
    """A process's resident memory in MiB from /proc: peak (``VmHWM``) or current (``VmRSS``)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def listening_pid(port: int) -> int | None:
    """The process listening on a local TCP port, from /proc (Linux; None if not found)."""
    sockets = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                sockets.add(f"socket:[{fields[9]}]")
    for fds in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(os.readlink(fd) in sockets for fd in fds.iterdir()):
                return int(fds.parent.name)
        except OSError:
            continue
    return None


def server_pids(url: str, hall_state: Path = HALL_STATE) -> dict[str, int]:
    """The server processes behind ``url``, by name: a hall's ("s1", "s2", ... as HAProxy names
    them) when ``hall_state`` describes one on the URL's port, else the one listening there."""
    port = urllib.parse.urlsplit(url).port or 80
    try:
        hall = json.loads(Path(hall_state).read_text())
        if hall.get("port") == port:
            return {f"s{server['index']}": server["pid"] for server in hall["servers"]}
    except (OSError, ValueError, KeyError, TypeError):
        pass
    pid = listening_pid(port)
    return {"server": pid} if pid is not None else {}


def balancer_cookie(url: str, page: str = "draw") -> str:
    """Load the page as a browser does first; the load balancer's cookie ("CNNX_SERVER=s2") if it
    set one, else "" (one process, no HAProxy)."""
    with urllib.request.urlopen(f"{url}/{page}", timeout=120) as response:
        response.read()
        found = re.match(rf"\s*({COOKIE}=[^;\s]+)", response.headers.get("Set-Cookie", ""))
    return found[1] if found else ""


def sticky_errors(session: WireSession) -> list[str]:
    """What broke the student's stickiness (see the module's docstring); none without a cookie."""
    if not session.cookie:
        return []
    server = session.cookie.split("=", 1)[1]
    errors = [] if session.served_by == server else [f"websocket answered by {session.served_by}, cookie {server}"]
    shown = [
        m[1]
        for t in (session.opened.texts if session.opened else [])
        for m in [re.search(r"server process (\d+) of \d+", t)]
        if m
    ]
    if shown and f"s{shown[0]}" != server:
        errors.append(f"page rendered by server process {shown[0]}, cookie {server}")
    for answer in session.media_answers:
        if answer.status != 200 or answer.served_by != server:
            errors.append(f"{answer.path} answered {answer.status} by {answer.served_by}, cookie {server}")
        if answer.set_cookie and f"{COOKIE}={server}" not in answer.set_cookie:
            errors.append(f"the cookie changed to {answer.set_cookie.split(';')[0]} ({answer.path})")
    return errors


async def wait_finished(page, timeout_ms: int = 120_000) -> None:
    await page.wait_for_selector(FINISHED, timeout=timeout_ms)


async def draw(page, strokes) -> float:
    """Draw the strokes; return the monotonic time of the last mouse-up."""
    box = await page.locator(CANVAS).first.bounding_box()
    x0, y0 = box["x"], box["y"]
    for points in strokes:
        await page.mouse.move(x0 + points[0][0], y0 + points[0][1])
        await page.mouse.down()
        for x, y in points[1:]:
            await page.mouse.move(x0 + x, y0 + y, steps=2)
        await page.mouse.up()
    return time.monotonic()


@dataclass
class Pace:
    """How a student works: seconds spent drawing a digit, then looking at the result, on average.

    Each pause is drawn uniformly from half to one and a half times its mean. With fixed pauses
    the students fall into step: those served in one burst all come back together, and the
    bursts, not the load, set the latency (seen in a 5-minute run: p50 40 ms in the first minute,
    400-900 ms after, with the server 0.36 of 2 cores busy).
    """

    draw_s: float = 2.0
    look_s: float = 3.0

    def drawing(self, rng: random.Random) -> float:
        return self.draw_s * rng.uniform(0.5, 1.5)

    def looking(self, rng: random.Random) -> float:
        return self.look_s * rng.uniform(0.5, 1.5)


@dataclass
class Tally:
    """What the students measured, shared by all of them (one event loop: no locks needed)."""

    browser: list = field(default_factory=list)  # mouse-up -> prediction shown, seconds
    wire: list = field(default_factory=list)  # message sent -> prediction arrived, seconds
    wire_run: list = field(default_factory=list)  # message sent -> the whole run finished
    wire_at: list = field(default_factory=list)  # when each of those predictions came (monotonic)
    open_s: list = field(default_factory=list)  # /draw opened and ready to draw
    errors: list = field(default_factory=list)
    served_by: Counter = field(default_factory=Counter)  # students per process (behind HAProxy)
    media: list = field(default_factory=list)  # the websocket students' pictures: (answered 200, all fetched)
    sends: int = 0  # digits sent to the class (class mode)
    wall_counts: list = field(default_factory=list)  # (time.time(), the wall's "Digits" count) as it changed


async def browser_student(browser, url: str, index: int, deadline: float, pace: Pace, tally: Tally) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 1400})
    page = await context.new_page()
    rng = random.Random(index)  # each student's own pace, the same in every run
    servers, failed_media = set(), []

    def answered(response) -> None:
        servers.add(response.headers.get(SERVER_HEADER.lower()))
        if "/media/" in response.url and response.status != 200:
            failed_media.append(f"{response.url} answered {response.status}")

    page.on("response", answered)
    step = "opening /draw"
    try:
        opened = time.monotonic()
        await page.goto(url + "/draw", timeout=120_000)
        await page.wait_for_selector(CANVAS, timeout=120_000)
        await wait_finished(page)
        tally.open_s.append(time.monotonic() - opened)
        k = index
        while k == index or time.monotonic() < deadline:  # every student draws at least once
            # A student takes a moment to start drawing; strokes made while a brand-new canvas is
            # still initialising are wiped by it (seen under load), so the rig does as well.
            await asyncio.sleep(pace.drawing(rng))
            step = f"drawing digit {k - index + 1}"
            released = await draw(page, digit_strokes(k))
            # The canvas sends its picture, the script reruns, the metric appears (a cleared
            # canvas shows none, so its appearance is the new prediction).
            step = f"waiting for the prediction of digit {k - index + 1}"
            await page.wait_for_selector(METRIC, timeout=120_000)  # as patient as the page load
            tally.browser.append(time.monotonic() - released)
            await wait_finished(page)
            if await page.locator(EXCEPTION).count():
                tally.errors.append(f"browser student {index}: exception shown on /draw")
            await asyncio.sleep(pace.looking(rng))
            step = f"clearing digit {k - index + 1}"
            await page.locator(".st-key-draw_clear button").click()
            await page.wait_for_selector(METRIC, state="detached", timeout=120_000)
            await wait_finished(page)
            k += 1
    except Exception as exc:  # a timeout or crash is an error of the run, counted, not raised
        shot = SCREENSHOTS / f"load_failure_student_{index}.png"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        try:
            await page.screenshot(path=str(shot), full_page=True)
        except Exception:
            shot = None
        tally.errors.append(
            f"browser student {index}, {step}: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:160]}" + (f" (screenshot {shot})" if shot else "")
        )
    finally:
        cookies = {c["value"] for c in await context.cookies() if c["name"] == COOKIE}
        await context.close()
    servers.discard(None)  # answers without HAProxy's header: one process, nothing to check
    tally.served_by.update(servers if len(servers) == 1 else [])
    if len(servers) > 1 or len(cookies) > 1 or (servers and cookies != servers):
        tally.errors.append(f"browser student {index}: answered by {sorted(servers)}, cookie {sorted(cookies)}")
    tally.errors.extend(f"browser student {index}: {failed}" for failed in failed_media)


async def wire_student(url: str, index: int, deadline: float, pace: Pace, tally: Tally, send: bool = False) -> None:
    session = None
    rng = random.Random(index)
    try:
        opened = time.monotonic()
        cookie = await asyncio.to_thread(balancer_cookie, url)
        session = await WireSession.open(url, "draw", cookie=cookie)
        tally.open_s.append(time.monotonic() - opened)
        tally.served_by[session.served_by or "server"] += 1
        k = index
        while k == index or time.monotonic() + pace.draw_s < deadline:  # at least once
            await asyncio.sleep(pace.drawing(rng))
            run = await session.draw(digit_strokes(k))
            tally.errors.extend(f"wire student {index}: {error}" for error in run.errors)
            if run.seconds_to_prediction is not None:
                tally.wire.append(run.seconds_to_prediction)
                tally.wire_run.append(run.seconds)
                tally.wire_at.append(time.monotonic())
                if send:  # the digit meant: the one drawn (digit_strokes)
                    sent = await session.send_to_class(DRAWN_DIGITS[k % 3])
                    tally.errors.extend(f"wire student {index} (send): {error}" for error in sent.errors)
                    # A digit counts as sent when the page says so ("Sent as ..."), not when the
                    # store called it a drawing already on the wall or refused it.
                    tally.sends += 1 if not sent.errors and sent.shows("Sent as") else 0
            await asyncio.sleep(pace.looking(rng))
            cleared = await session.clear()
            tally.errors.extend(f"wire student {index} (clear): {error}" for error in cleared.errors)
            k += 1
    except Exception as exc:  # counted, not raised, as for a browser student
        tally.errors.append(f"wire student {index}: {type(exc).__name__}: {str(exc)[:160]}")
    finally:
        if session is not None:
            await session.close()  # waits for the pictures still being fetched
            tally.errors.extend(f"wire student {index}: {error}" for error in sticky_errors(session))
            tally.media.append((sum(a.status == 200 for a in session.media_answers), session.media_fetched))


async def teacher_wall(browser, url: str, deadline: float, tally: Tally, teacher_token: str | None) -> None:
    """A teacher's Chromium with the class wall open until the end: every change of its "Digits"
    count, with the time it was seen (the wall polls the store every second itself)."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    try:
        await page.goto(url + "/class" + (f"?teacher={teacher_token}" if teacher_token else ""), timeout=120_000)
        await wait_finished(page)
        last = None
        while time.monotonic() < deadline + 5:  # the last digits sent still reach it
            text = await page.evaluate("""() => {
                const metric = document.querySelector('[data-testid="stMetricValue"]');
                return metric ? metric.innerText : null; }""")
            count = int(text) if text and text.strip().isdigit() else None
            if count is not None and count != last:
                tally.wall_counts.append((time.time(), count))
                last = count
            await asyncio.sleep(0.05)
    except Exception as exc:
        tally.errors.append(f"teacher's wall: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
    finally:
        await context.close()


def wall_delays(sent_at: list[float], counts: list[tuple[float, int]]) -> list[float]:
    """Seconds from each entry's time in the store to the first time the wall's count reached its
    position (entries in the order the store numbered them)."""
    delays = []
    for position, stored in enumerate(sent_at, start=1):
        seen = next((at for at, count in counts if count >= position), None)
        if seen is not None:
            delays.append(max(0.0, seen - stored))
    return delays


async def start_training(
    browser, url: str, images: int, epochs: int, name: str = "load_test_run", teacher_token: str | None = None
) -> str:
    """Start a run on /training through its form (with the teacher link's token, if given);
    return what the page said."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1400})
    page = await context.new_page()
    await page.goto(url + "/training" + (f"?teacher={teacher_token}" if teacher_token else ""), timeout=120_000)
    await wait_finished(page)
    for key, value in (("tr_epochs", str(epochs)), ("tr_limit", str(images)), ("tr_name", name)):
        field = page.locator(f".st-key-{key} input")
        await field.fill(value)
        await field.press("Enter")
        await wait_finished(page)
    await page.locator(".st-key-tr_start button").click()
    await page.wait_for_timeout(1500)
    await wait_finished(page)
    text = await page.locator("[data-testid='stMain']").inner_text()
    await context.close()
    return "started" if ("Epoch" in text or "epoch" in text) else "not confirmed"


def percentiles(values: list[float]) -> tuple[float | None, float | None]:
    """(p50, p95) of a list of seconds; None where there is nothing to summarise."""
    if not values:
        return None, None
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def _total(values: dict) -> float | None:
    """The sum over the server processes; None when a process could not be read."""
    return None if not values or None in values.values() else sum(values.values())


async def run(
    students: int,
    seconds: float,
    train_images: int,
    train_epochs: int,
    browsers: int = 1,
    pace: Pace | None = None,
    url: str | None = None,
    teacher_token: str | None = None,
    training: bool = True,
    hall_state: Path = HALL_STATE,
    class_mode: bool = False,
    wall: bool = True,
    class_db: Path | None = None,
) -> dict:
    """The measurement; ``url``: a server already running (else one is started, and stopped after)."""
    from playwright.async_api import async_playwright

    pace = pace or Pace()
    browsers = max(0, min(browsers, students))
    chromium = chromium_path()
    if chromium is None:
        raise SystemExit("chromium is not installed: apt-get install -y chromium")
    server = folder = None
    if url is None:
        folder = Path(tempfile.mkdtemp(prefix="load_ckpt_"))
        for path in (ROOT / "checkpoints").glob("*"):
            if path.is_file():
                shutil.copy2(path, folder / path.name)
        # The run's lock and progress (core.training.jobs.runner) in the copy too, not in artifacts/jobs.
        class_db = folder / "class.sqlite"  # the class store of the rig's own server
        server = start_streamlit(
            env={
                "CNN_EXPLAINER_CHECKPOINTS": str(folder),
                "CNN_EXPLAINER_JOBS_DIR": str(folder / "jobs"),
                "CNN_EXPLAINER_CLASS_DB": str(class_db),
            }
        )
        target, pids, run_name = server.url, {"server": server.process.pid}, "load_test_run"
    else:
        target, pids = url.rstrip("/"), server_pids(url, hall_state)
        class_db = class_db or (
            Path(os.environ["CNN_EXPLAINER_CLASS_DB"]) if os.environ.get("CNN_EXPLAINER_CLASS_DB") else None
        )
        run_name = f"load_test_{time.strftime('%Y%m%d_%H%M%S')}"  # the server's folder may hold earlier ones
        teacher_token = teacher_token or os.environ.get("CNN_EXPLAINER_TEACHER_TOKEN")
    tally = Tally()

    async def arriving(index: int, coroutine):
        # Students open the page over one drawing's time, not all in the same millisecond.
        await asyncio.sleep(index * (pace.draw_s + pace.look_s) / max(students, 1))
        await coroutine

    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
            said = (
                await start_training(browser, target, train_images, train_epochs, run_name, teacher_token)
                if training
                else "not asked for"
            )
            started = time.time()
            began = time.monotonic()
            deadline = began + seconds
            cpu_before, wall_before = {n: cpu_seconds(pid) for n, pid in pids.items()}, time.monotonic()
            rig_before = cpu_seconds(os.getpid())
            memory_before = {n: rss_mb(pid, "VmRSS") for n, pid in pids.items()}
            first_entry, shown_before = _store_state(class_db) if class_mode else (0, 0)
            watching = [teacher_wall(browser, target, deadline, tally, teacher_token)] if class_mode and wall else []
            await asyncio.gather(
                *watching,
                *(
                    arriving(
                        i,
                        browser_student(browser, target, i, deadline, pace, tally)
                        if i < browsers
                        else wire_student(target, i, deadline, pace, tally, send=class_mode),
                    )
                    for i in range(students)
                ),
            )
            await browser.close()
        peak = {n: rss_mb(pid) for n, pid in pids.items()}
        memory_after = {n: rss_mb(pid, "VmRSS") for n, pid in pids.items()}
        cpu_after, wall = {n: cpu_seconds(pid) for n, pid in pids.items()}, time.monotonic() - wall_before
        rig_after = cpu_seconds(os.getpid())
        # The run's checkpoint, there once it has finished (known only in a folder of the rig's own).
        saved = folder / f"{run_name}.pt" if folder is not None else None
        training_s = saved.stat().st_mtime - started if saved is not None and saved.exists() else None
        stored = _entries_after(class_db, first_entry) if class_mode else []
    finally:
        if server is not None:
            server.stop()
            shutil.rmtree(folder, ignore_errors=True)

    def busy(a, b):
        return (b - a) / wall if a is not None and b is not None else None

    cores = {n: busy(cpu_before[n], cpu_after[n]) for n in pids}
    browser_p50, browser_p95 = percentiles(tally.browser)
    wire_p50, wire_p95 = percentiles(tally.wire)
    run_p50, run_p95 = percentiles(tally.wire_run)
    open_p50, open_p95 = percentiles(tally.open_s)
    # The wall counts the session's entries: the k-th of this run is on it once the count is
    # the entries shown before the run plus k.
    delays = wall_delays(stored, [(at, count - shown_before) for at, count in tally.wall_counts])
    wall_p50, wall_p95 = percentiles(delays)
    # Drift over a long run: the websocket students' p50 / p95 minute by minute.
    minutes = [
        percentiles([lat for lat, at in zip(tally.wire, tally.wire_at) if m * 60 <= at - began < (m + 1) * 60])
        for m in range(max(1, math.ceil(seconds / 60)))
    ]
    return {
        "url": url,
        "students": students,
        "browsers": browsers,
        "wire_students": students - browsers,
        "seconds": seconds,
        "draw_seconds": pace.draw_s,
        "look_seconds": pace.look_s,
        "training": said,
        "training_name": run_name if training else None,
        "training_finished_after_s": training_s,
        "predictions": len(tally.browser) + len(tally.wire),
        "browser_predictions": len(tally.browser),
        "browser_p50_s": browser_p50,
        "browser_p95_s": browser_p95,
        "wire_predictions": len(tally.wire),
        "wire_p50_s": wire_p50,
        "wire_p95_s": wire_p95,
        "wire_run_p50_s": run_p50,
        "wire_run_p95_s": run_p95,
        "open_p50_s": open_p50,
        "open_p95_s": open_p95,
        "wire_by_minute": [{"p50_s": p50, "p95_s": p95} for p50, p95 in minutes],
        "students_by_server": dict(sorted(tally.served_by.items())),
        "wire_media_fetched": sum(n for _, n in tally.media),
        "wire_media_ok": sum(ok for ok, _ in tally.media),
        "class_mode": class_mode,
        "wall_open": class_mode and wall,
        "sent": tally.sends,
        "stored": len(stored),
        "on_wall": len(delays),
        "wall_p50_s": wall_p50,
        "wall_p95_s": wall_p95,
        "errors": len(tally.errors),
        "error_messages": tally.errors[:10],
        "servers": [
            {
                "name": n,
                "pid": pid,
                "peak_rss_mb": peak[n],
                "rss_before_mb": memory_before[n],
                "rss_after_mb": memory_after[n],
                "cores_busy": cores[n],
            }
            for n, pid in pids.items()
        ],
        "server_peak_rss_mb": _total(peak),
        "server_rss_before_mb": _total(memory_before),
        "server_rss_after_mb": _total(memory_after),
        "server_cores_busy": _total(cores),
        "rig_cores_busy": busy(rig_before, rig_after),
        "machine_cores": os.cpu_count(),
    }


def _store_state(class_db: Path | None) -> tuple[int, int]:
    """The store's current session before the run: its newest entry id (0: none yet) and how
    many entries its wall shows."""
    if class_db is None:
        raise SystemExit(
            "class mode with --url needs the server's class store: --class-db PATH (or CNN_EXPLAINER_CLASS_DB)"
        )
    from core.classroom.store import ClassStore

    store = ClassStore(class_db)
    return store.latest()[0], store.summary()["entries"]


def _entries_after(class_db: Path, first: int) -> list[float]:
    """The store's times of the entries sent during the run, in the order it numbered them."""
    from core.classroom.store import ClassStore

    return [entry.sent_at for entry in reversed(ClassStore(class_db).entries(since_id=first))]


def in_fresh_loop(coroutine):
    """Run a coroutine to completion in a thread of its own: callers that already have an
    event loop (pytest after sync Playwright tests) cannot use ``asyncio.run`` directly."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def report(result: dict) -> str:
    def ms(s):
        return f"{s * 1000:.0f} ms" if s is not None else "-"

    def mib(v):
        return f"{v:.0f} MiB" if v is not None else "-"

    def cores(v):
        return f"{v:.2f}" if v is not None else "-"

    if result["training_finished_after_s"]:
        ended = f"finished {result['training_finished_after_s']:.0f} s into the run"
    elif result["url"] is None:
        ended = "still running at the end"
    else:
        ended = f"saving as {result['training_name']} in the server's checkpoint folder"
    lines = [
        (f"{result['url']}: " if result["url"] else "")
        + f"{result['students']} students ({result['browsers']} in Chromium, {result['wire_students']} over "
        f"the websocket) for {result['seconds']:.0f} s, drawing {result['draw_seconds']:g} s and looking "
        f"{result['look_seconds']:g} s per digit; training job {result['training']}"
        + (f", {ended}" if result["training_name"] else ""),
        f"  predictions {result['predictions']}, errors {result['errors']}",
        f"  websocket students: prediction p50 {ms(result['wire_p50_s'])}, p95 {ms(result['wire_p95_s'])} "
        f"(whole run p50 {ms(result['wire_run_p50_s'])}, p95 {ms(result['wire_run_p95_s'])}; "
        f"{result['wire_predictions']} predictions; {result['wire_media_ok']} of {result['wire_media_fetched']} "
        "pictures answered 200)",
        f"  Chromium students: mouse-up to prediction shown p50 {ms(result['browser_p50_s'])}, "
        f"p95 {ms(result['browser_p95_s'])} ({result['browser_predictions']} predictions)",
        f"  /draw opened: p50 {ms(result['open_p50_s'])}, p95 {ms(result['open_p95_s'])}",
        "  websocket prediction p50 / p95 minute by minute: "
        + ", ".join(f"{ms(m['p50_s'])} / {ms(m['p95_s'])}" for m in result["wire_by_minute"]),
        f"  server memory {mib(result['server_rss_before_mb'])} when the students came, "
        f"{mib(result['server_rss_after_mb'])} when they left, peak {mib(result['server_peak_rss_mb'])}",
        f"  server busy "
        f"{cores(result['server_cores_busy'])} of {result['machine_cores']} cores, this rig's Python "
        f"{cores(result['rig_cores_busy'])} (Chromium not counted)",
    ]
    if result["class_mode"]:
        lines.append(
            f"  sent to the class {result['sent']}, stored {result['stored']}"
            + (
                f"; on the teacher's wall {result['on_wall']}: store to wall p50 {ms(result['wall_p50_s'])}, "
                f"p95 {ms(result['wall_p95_s'])}"
                if result["wall_open"]
                else " (the wall was closed)"
            )
        )
    if len(result["servers"]) > 1 or result["url"]:
        by_server = result["students_by_server"]
        lines += [
            f"  {s['name']} (pid {s['pid']}): {by_server.get(s['name'], 0)} students, busy "
            f"{cores(s['cores_busy'])} cores, memory {mib(s['rss_before_mb'])} -> {mib(s['rss_after_mb'])} "
            f"(peak since it started {mib(s['peak_rss_mb'])})"
            for s in result["servers"]
        ]
    return "\n".join(lines + ["  " + message for message in result["error_messages"]])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10)
    parser.add_argument("--browsers", type=int, default=1, help="how many students are headless-Chromium pages")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--draw-seconds", type=float, default=Pace.draw_s, help="time to draw a digit")
    parser.add_argument("--look-seconds", type=float, default=Pace.look_s, help="time to look at the result")
    parser.add_argument("--train-images", type=int, default=60_000, help="the background run's training set")
    parser.add_argument("--train-epochs", type=int, default=5)
    parser.add_argument(
        "--no-training", dest="training", action="store_false", help="no training run alongside the students"
    )
    parser.add_argument(
        "--url",
        help="a server already running (e.g. a lecture hall: http://127.0.0.1:8501); "
        "default: start one of the rig's own",
    )
    parser.add_argument(
        "--teacher-token",
        help="with --url: the teacher link's token, to start the training run (default: CNN_EXPLAINER_TEACHER_TOKEN)",
    )
    parser.add_argument(
        "--hall-state",
        type=Path,
        default=HALL_STATE,
        help="with --url: the hall's PIDs (default artifacts/hall.json, written by python -m serve)",
    )
    parser.add_argument(
        "--class-mode",
        action="store_true",
        help="the students send every digit to the class; a teacher's Chromium watches the wall",
    )
    parser.add_argument("--no-wall", dest="wall", action="store_false", help="class mode with the wall closed")
    parser.add_argument("--class-db", type=Path, help="with --url and --class-mode: the server's class store")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = in_fresh_loop(
        run(
            args.students,
            args.seconds,
            args.train_images,
            args.train_epochs,
            browsers=args.browsers,
            pace=Pace(args.draw_seconds, args.look_seconds),
            url=args.url,
            teacher_token=args.teacher_token,
            training=args.training,
            hall_state=args.hall_state,
            class_mode=args.class_mode,
            wall=args.wall,
            class_db=args.class_db,
        )
    )
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
