"""The load rig's students (``benchmarks.classroom_load``): what each kind does and what it tallies.

A browser student is a headless-Chromium page drawing on /draw's canvas with the mouse; a wire
student speaks Streamlit's websocket protocol (``benchmarks.wire_student``) as a student's own
laptop would; the teacher's Chromium keeps the class wall open and notes each change of its count.
Each works at a :class:`Pace` of its own and adds what it measured to the run's :class:`Tally`:
latencies, errors (a timeout or crash is counted, never raised), and, behind HAProxy, whether the
load balancer's cookie held.
"""

from __future__ import annotations

import asyncio
import math
import random
import re
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field

from benchmarks.wire_student import WireSession
from serve.haproxy import COOKIE, SERVER_HEADER
from tests.harness import FINISHED, SCREENSHOTS

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


def in_fresh_loop(coroutine):
    """Run a coroutine to completion in a thread of its own: callers that already have an
    event loop (pytest after sync Playwright tests) cannot use ``asyncio.run`` directly."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
