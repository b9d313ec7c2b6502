"""A classroom's load on one server: N students drawing on /draw while a training job runs.

Each student is a headless-Chromium page on ``/draw`` that draws a digit on the real canvas,
waits for the prediction, clears, and draws again until the time is up. One more page starts a
training run on ``/training`` first, so the students share the machine with it. Reported:
p50 / p95 of the time from mouse-up to the prediction shown, errors (must be 0), the number of
predictions, and the server's peak memory (VmHWM of the Streamlit process).

    .venv/bin/python benchmarks/classroom_load.py --students 10 --seconds 60
    .venv/bin/python benchmarks/classroom_load.py --students 30 --seconds 90 --json

The server gets its own checkpoint folder (a copy of the shipped ones), so the training run's
checkpoint never lands in ``checkpoints/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.harness import CHROMIUM_FLAGS, FINISHED, chromium_path, start_streamlit  # noqa: E402

METRIC = "[data-testid='stMetricValue']"
RUNNING = "[data-testid='stApp'][data-test-script-state='running']"
EXCEPTION = "[data-testid='stException']"
CANVAS = "canvas.upper-canvas"


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


def peak_rss_mb(pid: int) -> float | None:
    """Peak resident memory (VmHWM) of a process, in MiB, from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
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


async def student(browser, url: str, index: int, deadline: float, latencies: list, errors: list) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 1400})
    page = await context.new_page()
    try:
        await page.goto(url + "/draw", timeout=120_000)
        await page.wait_for_selector(CANVAS, timeout=120_000)
        await wait_finished(page)
        k = index
        while time.monotonic() < deadline:
            released = await draw(page, digit_strokes(k))
            # The canvas sends its picture, the script reruns, the metric is drawn again.
            try:
                await page.wait_for_selector(RUNNING, timeout=5_000)
            except Exception:
                pass  # the run may start and finish between two polls
            await wait_finished(page)
            await page.wait_for_selector(METRIC, timeout=120_000)  # as patient as the page load
            latencies.append(time.monotonic() - released)
            if await page.locator(EXCEPTION).count():
                errors.append(f"student {index}: exception shown on /draw")
            await page.locator(".st-key-draw_clear button").click()
            await page.wait_for_timeout(300)
            await wait_finished(page)
            k += 1
    except Exception as exc:  # a timeout or crash is an error of the run, counted, not raised
        errors.append(f"student {index}: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
    finally:
        await context.close()


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


async def run(students: int, seconds: float, train_images: int, train_epochs: int) -> dict:
    from playwright.async_api import async_playwright
    chromium = chromium_path()
    if chromium is None:
        raise SystemExit("chromium is not installed: apt-get install -y chromium")
    folder = Path(tempfile.mkdtemp(prefix="load_ckpt_"))
    for path in (ROOT / "checkpoints").glob("*"):
        shutil.copy2(path, folder / path.name)
    server = start_streamlit(env={"CNN_EXPLAINER_CHECKPOINTS": str(folder)})
    latencies: list[float] = []
    errors: list[str] = []
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
            training = await start_training(browser, server.url, train_images, train_epochs)
            deadline = time.monotonic() + seconds
            cpu_before, wall_before = cpu_seconds(server.process.pid), time.monotonic()
            await asyncio.gather(*(student(browser, server.url, i, deadline, latencies, errors)
                                   for i in range(students)))
            await browser.close()
        peak = peak_rss_mb(server.process.pid)
        cpu_after, wall = cpu_seconds(server.process.pid), time.monotonic() - wall_before
        server_cpu = (cpu_after - cpu_before) / wall if cpu_before is not None and cpu_after is not None else None
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else None
    return {"students": students, "seconds": seconds, "training": training, "predictions": len(latencies),
            "p50_s": statistics.median(ordered) if ordered else None, "p95_s": p95,
            "errors": len(errors), "error_messages": errors[:10], "server_peak_rss_mb": peak,
            "server_cores_busy": server_cpu, "machine_cores": os.cpu_count()}


def in_fresh_loop(coroutine):
    """Run a coroutine to completion in a thread of its own: callers that already have an
    event loop (pytest after sync Playwright tests) cannot use ``asyncio.run`` directly."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--train-images", type=int, default=20_000, help="the background run's training set")
    parser.add_argument("--train-epochs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = in_fresh_loop(run(args.students, args.seconds, args.train_images, args.train_epochs))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        fmt = (lambda s: f"{s * 1000:.0f} ms" if s is not None else "-")
        print(f"{result['students']} students for {result['seconds']:.0f} s, training job {result['training']}: "
              f"{result['predictions']} predictions, p50 {fmt(result['p50_s'])}, p95 {fmt(result['p95_s'])}, "
              f"errors {result['errors']}, server peak memory {result['server_peak_rss_mb']:.0f} MiB, "
              f"server busy {result['server_cores_busy']:.2f} of {result['machine_cores']} cores "
              "(the browsers use the rest)")
        for message in result["error_messages"]:
            print("  " + message)
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
