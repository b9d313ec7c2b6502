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
the server and this rig were. The students are ``benchmarks.load_students``; what is read of the
server's processes, the percentiles and the report, ``benchmarks.load_figures``.

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
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.load_figures import (
    HALL_STATE,
    cpu_seconds,
    percentiles,
    report,
    rss_mb,
    server_pids,
    total,
    wall_delays,
)
from benchmarks.load_students import (
    Pace,
    Tally,
    browser_student,
    in_fresh_loop,
    start_training,
    teacher_wall,
    wire_student,
)
from serve.streamlit_process import ROOT
from tests.harness import CHROMIUM_FLAGS, chromium_path, start_streamlit


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
        "server_peak_rss_mb": total(peak),
        "server_rss_before_mb": total(memory_before),
        "server_rss_after_mb": total(memory_after),
        "server_cores_busy": total(cores),
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
