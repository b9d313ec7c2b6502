"""The design challenge under a class's load: 30 students submit a LeNet-size design within a
minute; how long until all are ranked, and how fast /draw answers the students drawing meanwhile.

A server of its own (its own class database, checkpoint folder and run lock, the shipped
checkpoints linked so /draw reads with lenet5) gets a challenge opened with the default rules but
a cap that lets LeNet-size designs in (``--cap``). A browser-less teacher keeps /design open, which
starts the server's queue thread (``core.classroom.design_challenge.queue``); the submissions go into the
class store as /design's Submit puts them there (``Challenges.submit``), one every
``--seconds / --entries`` seconds, 30 different LeNet-size designs (C1 4-8 filters, C2 8-18,
a hidden layer of 32-120). Meanwhile ``--drawers`` students (their first drawing, which warms their session, not counted) (``benchmarks.wire_student``, Streamlit's
own websocket, what a browser sends) draw on /draw, look, clear and draw again.

    .venv/bin/python -m benchmarks.challenge_load [--entries 30] [--seconds 60] [--drawers 6] [--look 4]

Printed: when the last design was submitted and when all were ranked (seconds from the first
submission), each entry's training seconds (median, max), and the drawers' time from sending a
drawing to its prediction (median, p95) in the ``--baseline`` seconds before the first submission
and while the queue trained, side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.load_figures import percentiles
from benchmarks.load_students import digit_strokes
from benchmarks.wire_student import WireSession
from core.classroom import teacher
from core.classroom.db import DB_ENV
from core.classroom.design_challenge.scoring import QUEUED, TRAINING, Rules
from core.classroom.design_challenge.submissions import Challenges
from core.classroom.store import ClassStore
from core.models import checkpoints
from serve.streamlit_process import start as start_streamlit


def lenet_sized(k: int) -> str:
    """The k-th of 30 different LeNet-size designs (about 10,000-60,000 parameters)."""
    c1, c2, hidden = 4 + k % 5, 8 + 2 * (k // 5), (32, 64, 84, 120)[k % 4]
    return f"conv{c1}k5p2 relu max2 conv{c2}k5 relu max2 dense{hidden} relu"


async def drawer(
    url: str, index: int, stop: asyncio.Event, latencies: list[float], errors: list[str], args_look: float
) -> None:
    session = await WireSession.open(url, "draw")
    k, first = index, True
    while not stop.is_set():
        run = await session.draw(digit_strokes(k))
        errors.extend(run.errors)
        if run.seconds_to_prediction is not None and not first:  # a session's first drawing warms it: not counted
            latencies.append(run.seconds_to_prediction)
        first = False
        await asyncio.sleep(args_look)  # a student looks at the answer
        await session.clear()
        k += 3
    await session.close()


async def measure(url: str, store: ClassStore, challenge_id: int, args) -> dict:
    teacher_page = await WireSession.open(url, "design")  # a page that shows the challenge starts the queue
    stop, latencies, errors = asyncio.Event(), [], []
    drawers = [asyncio.create_task(drawer(url, i, stop, latencies, errors, args.look)) for i in range(args.drawers)]
    challenges = Challenges(store)
    await asyncio.sleep(args.baseline)  # the same students drawing with nothing queued: the baseline
    before = list(latencies)
    first = time.monotonic()
    for k in range(args.entries):
        challenges.submit(
            challenge_id, student_key=f"student-{k}", nickname=f"student {k + 1}", notation=lenet_sized(k)
        )
        await asyncio.sleep(args.seconds / args.entries)
    submitted = time.monotonic() - first
    while True:
        entries = challenges.entries(challenge_id)
        if not any(e.status in (QUEUED, TRAINING) for e in entries):
            break
        if time.monotonic() - first > args.timeout:
            break
        await asyncio.sleep(1.0)
    ranked_after = time.monotonic() - first
    during = latencies[len(before) :]
    stop.set()
    await asyncio.gather(*drawers)
    await teacher_page.close()
    trained = [e.seconds for e in entries if e.seconds is not None]
    return {
        "submitted_after": submitted,
        "ranked_after": ranked_after,
        "statuses": {s: sum(e.status == s for e in entries) for s in {e.status for e in entries}},
        "train_seconds": trained,
        "before": before,
        "during": during,
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60.0, help="the submissions are spread over this long")
    parser.add_argument("--drawers", type=int, default=6)
    parser.add_argument("--look", type=float, default=4.0, help="seconds a drawer looks at an answer before clearing")
    parser.add_argument("--baseline", type=float, default=30.0, help="seconds of drawing before the first submission")
    parser.add_argument("--cap", type=int, default=100_000, help="the challenge's cap on parameters")
    parser.add_argument("--timeout", type=float, default=1800.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "checkpoints").mkdir()
        for path in checkpoints.DEFAULT_DIR.iterdir():
            if path.is_file():
                (folder / "checkpoints" / path.name).symlink_to(path)
        env = {
            DB_ENV: str(folder / "class.sqlite"),
            "CNN_EXPLAINER_CHECKPOINTS": str(folder / "checkpoints"),
            "CNN_EXPLAINER_JOBS_DIR": str(folder / "jobs"),
            teacher.LOCAL_ENV: "0",
        }
        store = ClassStore(folder / "class.sqlite")
        challenge = Challenges(store).open("benchmark", Rules(cap_params=args.cap))
        server = start_streamlit(env=env)
        try:
            result = asyncio.run(measure(server.url, store, challenge.id, args))
        finally:
            server.stop()
    rules = challenge.rules
    before, during = ([s * 1000 for s in result[k]] for k in ("before", "during"))
    print(
        f"{args.entries} LeNet-size designs submitted over {result['submitted_after']:.0f} s "
        f"({rules.epochs} epoch(s) on {rules.images:,} images each, scored on {rules.test_images:,}); "
        f"all ranked {result['ranked_after']:.0f} s after the first: {result['statuses']}"
    )
    if result["train_seconds"]:
        print(
            f"  training per entry: median {statistics.median(result['train_seconds']):.1f} s, "
            f"max {max(result['train_seconds']):.1f} s"
        )
    for label, ms in (("before the first submission", before), ("while the queue trained", during)):
        if ms:
            print(
                f"  {args.drawers} students drawing {label}: {len(ms)} predictions, median "
                f"{statistics.median(ms):.0f} ms, p95 {percentiles(ms)[1]:.0f} ms"
            )
    print(f"  errors: {len(result['errors'])}")


if __name__ == "__main__":
    main()
