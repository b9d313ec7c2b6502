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

    .venv/bin/python benchmarks/classroom_load.py --students 10 --seconds 60
    .venv/bin/python benchmarks/classroom_load.py --students 30 --seconds 90 --json
    .venv/bin/python benchmarks/classroom_load.py --students 10 --browsers 10   # all in Chromium

The server gets its own checkpoint folder (a copy of the shipped ones), so the training run's
checkpoint never lands in ``checkpoints/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.harness import CHROMIUM_FLAGS, FINISHED, SCREENSHOTS, chromium_path, start_streamlit  # noqa: E402
from benchmarks.wire_student import WireSession  # noqa: E402

METRIC = "[data-testid='stMetricValue']"
EXCEPTION = "[data-testid='stException']"
CANVAS = "canvas.upper-canvas"


DRAWN_DIGITS = (1, 0, 7)  # what digit_strokes(k) draws, by k % 3


def digit_strokes(k: int) -> list[list[tuple[float, float]]]:
    """A few digit shapes on the 280x280 canvas: a one, a zero, a seven; varied a little by k."""
    dx = (k % 5) * 6 - 12
    one = [(140 + dx, 45 + 10 * i) for i in range(20)]
    zero = [(140 + dx + 65 * math.sin(a), 140 - 95 * math.cos(a))
            for a in [2 * math.pi * i / 40 for i in range(41)]]
    seven = [(70 + dx + 7 * i, 50) for i in range(20)] + [(210 + dx - 4 * i, 50 + 10 * i) for i in range(1, 20)]
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


async def browser_student(browser, url: str, index: int, deadline: float, pace: Pace, tally: Tally) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 1400})
    page = await context.new_page()
    rng = random.Random(index)  # each student's own pace, the same in every run
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
        tally.errors.append(f"browser student {index}, {step}: {type(exc).__name__}: "
                            f"{str(exc).splitlines()[0][:160]}" + (f" (screenshot {shot})" if shot else ""))
    finally:
        await context.close()


async def wire_student(url: str, index: int, deadline: float, pace: Pace, tally: Tally) -> None:
    session = None
    rng = random.Random(index)
    try:
        opened = time.monotonic()
        session = await WireSession.open(url, "draw")
        tally.open_s.append(time.monotonic() - opened)
        k = index
        while k == index or time.monotonic() + pace.draw_s < deadline:  # at least once
            await asyncio.sleep(pace.drawing(rng))
            run = await session.draw(digit_strokes(k))
            tally.errors.extend(f"wire student {index}: {error}" for error in run.errors)
            if run.seconds_to_prediction is not None:
                tally.wire.append(run.seconds_to_prediction)
                tally.wire_run.append(run.seconds)
                tally.wire_at.append(time.monotonic())
            await asyncio.sleep(pace.looking(rng))
            cleared = await session.clear()
            tally.errors.extend(f"wire student {index} (clear): {error}" for error in cleared.errors)
            k += 1
    except Exception as exc:  # counted, not raised, as for a browser student
        tally.errors.append(f"wire student {index}: {type(exc).__name__}: {str(exc)[:160]}")
    finally:
        if session is not None:
            await session.close()


async def start_training(browser, url: str, images: int, epochs: int, name: str = "load_test_run") -> str:
    """Start a run on /training through its form; return what the page said."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1400})
    page = await context.new_page()
    await page.goto(url + "/training", timeout=120_000)
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


async def run(students: int, seconds: float, train_images: int, train_epochs: int,
              browsers: int = 1, pace: Pace | None = None) -> dict:
    from playwright.async_api import async_playwright
    pace = pace or Pace()
    browsers = max(0, min(browsers, students))
    chromium = chromium_path()
    if chromium is None:
        raise SystemExit("chromium is not installed: apt-get install -y chromium")
    folder = Path(tempfile.mkdtemp(prefix="load_ckpt_"))
    for path in (ROOT / "checkpoints").glob("*"):
        shutil.copy2(path, folder / path.name)
    server = start_streamlit(env={"CNN_EXPLAINER_CHECKPOINTS": str(folder)})
    tally = Tally()

    async def arriving(index: int, coroutine):
        # Students open the page over one drawing's time, not all in the same millisecond.
        await asyncio.sleep(index * (pace.draw_s + pace.look_s) / max(students, 1))
        await coroutine

    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
            training = await start_training(browser, server.url, train_images, train_epochs)
            started = time.time()
            began = time.monotonic()
            deadline = began + seconds
            cpu_before, wall_before = cpu_seconds(server.process.pid), time.monotonic()
            rig_before = cpu_seconds(os.getpid())
            memory_before = rss_mb(server.process.pid, "VmRSS")
            await asyncio.gather(*(
                arriving(i, browser_student(browser, server.url, i, deadline, pace, tally) if i < browsers
                         else wire_student(server.url, i, deadline, pace, tally))
                for i in range(students)))
            await browser.close()
        peak, memory_after = rss_mb(server.process.pid), rss_mb(server.process.pid, "VmRSS")
        cpu_after, wall = cpu_seconds(server.process.pid), time.monotonic() - wall_before
        rig_after = cpu_seconds(os.getpid())
        saved = folder / "load_test_run.pt"  # the run's checkpoint: there once it has finished
        training_s = saved.stat().st_mtime - started if saved.exists() else None
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    busy = (lambda a, b: (b - a) / wall if a is not None and b is not None else None)
    browser_p50, browser_p95 = percentiles(tally.browser)
    wire_p50, wire_p95 = percentiles(tally.wire)
    run_p50, run_p95 = percentiles(tally.wire_run)
    open_p50, open_p95 = percentiles(tally.open_s)
    # Drift over a long run: the websocket students' p50 / p95 minute by minute.
    minutes = [percentiles([lat for lat, at in zip(tally.wire, tally.wire_at) if m * 60 <= at - began < (m + 1) * 60])
               for m in range(max(1, math.ceil(seconds / 60)))]
    return {"students": students, "browsers": browsers, "wire_students": students - browsers,
            "seconds": seconds, "draw_seconds": pace.draw_s, "look_seconds": pace.look_s,
            "training": training, "training_finished_after_s": training_s, "predictions": len(tally.browser) + len(tally.wire),
            "browser_predictions": len(tally.browser), "browser_p50_s": browser_p50, "browser_p95_s": browser_p95,
            "wire_predictions": len(tally.wire), "wire_p50_s": wire_p50, "wire_p95_s": wire_p95,
            "wire_run_p50_s": run_p50, "wire_run_p95_s": run_p95,
            "open_p50_s": open_p50, "open_p95_s": open_p95,
            "wire_by_minute": [{"p50_s": p50, "p95_s": p95} for p50, p95 in minutes],
            "errors": len(tally.errors), "error_messages": tally.errors[:10], "server_peak_rss_mb": peak,
            "server_rss_before_mb": memory_before, "server_rss_after_mb": memory_after,
            "server_cores_busy": busy(cpu_before, cpu_after), "rig_cores_busy": busy(rig_before, rig_after),
            "machine_cores": os.cpu_count()}


def in_fresh_loop(coroutine):
    """Run a coroutine to completion in a thread of its own: callers that already have an
    event loop (pytest after sync Playwright tests) cannot use ``asyncio.run`` directly."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def report(result: dict) -> str:
    ms = (lambda s: f"{s * 1000:.0f} ms" if s is not None else "-")
    lines = [
        f"{result['students']} students ({result['browsers']} in Chromium, {result['wire_students']} over "
        f"the websocket) for {result['seconds']:.0f} s, drawing {result['draw_seconds']:g} s and looking "
        f"{result['look_seconds']:g} s per digit; training job {result['training']}, "
        + (f"finished {result['training_finished_after_s']:.0f} s into the run" if result["training_finished_after_s"]
           else "still running at the end"),
        f"  predictions {result['predictions']}, errors {result['errors']}",
        f"  websocket students: prediction p50 {ms(result['wire_p50_s'])}, p95 {ms(result['wire_p95_s'])} "
        f"(whole run p50 {ms(result['wire_run_p50_s'])}, p95 {ms(result['wire_run_p95_s'])}; "
        f"{result['wire_predictions']} predictions)",
        f"  Chromium students: mouse-up to prediction shown p50 {ms(result['browser_p50_s'])}, "
        f"p95 {ms(result['browser_p95_s'])} ({result['browser_predictions']} predictions)",
        f"  /draw opened: p50 {ms(result['open_p50_s'])}, p95 {ms(result['open_p95_s'])}",
        "  websocket prediction p50 / p95 minute by minute: " + ", ".join(
            f"{ms(m['p50_s'])} / {ms(m['p95_s'])}" for m in result["wire_by_minute"]),
        f"  server memory {result['server_rss_before_mb']:.0f} MiB when the students came, "
        f"{result['server_rss_after_mb']:.0f} MiB when they left, peak {result['server_peak_rss_mb']:.0f} MiB",
        f"  server busy "
        f"{result['server_cores_busy']:.2f} of {result['machine_cores']} cores, this rig's Python "
        f"{result['rig_cores_busy']:.2f} (Chromium not counted)",
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
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = in_fresh_loop(run(args.students, args.seconds, args.train_images, args.train_epochs,
                               browsers=args.browsers, pace=Pace(args.draw_seconds, args.look_seconds)))
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
