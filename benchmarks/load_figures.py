"""The load rig's figures (``benchmarks.classroom_load``): what it reads of the server's processes,
how the students' times are summed up, and the report in words.

CPU time and memory come from /proc (Linux): the Streamlit process the rig started, or a lecture
hall's processes (``artifacts/hall.json``), else whichever process listens on the URL's port.
"""

from __future__ import annotations

import json
import os
import statistics
import urllib.parse
from pathlib import Path

from serve.streamlit_process import ROOT

HALL_STATE = ROOT / "artifacts" / "hall.json"  # serve/hall.py: the PIDs of a running lecture hall


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


def wall_delays(sent_at: list[float], counts: list[tuple[float, int]]) -> list[float]:
    """Seconds from each entry's time in the store to the first time the wall's count reached its
    position (entries in the order the store numbered them)."""
    delays = []
    for position, stored in enumerate(sent_at, start=1):
        seen = next((at for at, count in counts if count >= position), None)
        if seen is not None:
            delays.append(max(0.0, seen - stored))
    return delays


def percentiles(values: list[float]) -> tuple[float | None, float | None]:
    """(p50, p95) of a list of seconds; None where there is nothing to summarise."""
    if not values:
        return None, None
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def total(values: dict) -> float | None:
    """The sum over the server processes; None when a process could not be read."""
    return None if not values or None in values.values() else sum(values.values())


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
