"""A student without a browser: speaks Streamlit's own websocket protocol to ``/draw``.

Headless Chromium renders every page, and thirty of them on the server's two cores measure the
browsers, not the server (PERFORMANCE.md). In a classroom each student's browser runs on their
own laptop; what reaches the server is the websocket. This client sends the server exactly what
the browser sends when a digit is drawn (the messages were recorded from Chromium: a
``rerun_script`` BackMsg whose canvas widget state is ``{"drawing": {"raw": <fabric.js JSON>,
"data": "data:image/png;base64,..."}}``, an opaque 280 x 280 RGBA PNG, white ink on black), reads
the ForwardMsgs back, and times the arrival of the ``Prediction`` metric. It fetches the pictures
the page refers to (``/media/...``) as a browser would, so the server serves them too.

    session = await WireSession.open("http://127.0.0.1:8501", "draw")
    run = await session.draw(digit_strokes(0))     # run.prediction, run.seconds_to_prediction
    await session.clear()
    await session.close()
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
import urllib.request
from dataclasses import dataclass, field

from PIL import Image, ImageDraw
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

CANVAS_PX = 280
STROKE_PX = 20  # the draw page's default pen
PREDICTION_LABEL = "Prediction"


class WireError(RuntimeError):
    """The server answered with something a student would see as an error, or not at all."""


def canvas_state(strokes: list[list[tuple[float, float]]], stroke_px: int = STROKE_PX) -> str:
    """The canvas widget's JSON state for these strokes, as streamlit-drawable-canvas sends it."""
    image = Image.new("RGBA", (CANVAS_PX, CANVAS_PX), (0, 0, 0, 255))
    pen = ImageDraw.Draw(image)
    radius = stroke_px / 2
    objects = []
    for points in strokes:
        pen.line(points, fill=(255, 255, 255, 255), width=stroke_px, joint="curve")
        for x, y in (points[0], points[-1]):  # round caps, as fabric.js draws them
            pen.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(255, 255, 255, 255))
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        objects.append({"type": "Path", "version": "7.4.0", "originX": "center", "originY": "center",
                        "left": (min(xs) + max(xs)) / 2, "top": (min(ys) + max(ys)) / 2,
                        "width": max(xs) - min(xs), "height": max(ys) - min(ys), "fill": None,
                        "stroke": "#FFFFFF", "strokeWidth": stroke_px, "strokeLineCap": "round",
                        "strokeLineJoin": "round",
                        "path": [["M", *points[0]]] + [["L", x, y] for x, y in points[1:]]})
    png = io.BytesIO()
    image.save(png, format="PNG")
    data = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode("ascii")
    raw = {"version": "7.4.0", "objects": objects, "background": "#000000"}
    return json.dumps({"drawing": {"raw": raw, "data": data}}, separators=(",", ":"))


@dataclass
class Run:
    """What one script run sent back."""

    seconds_to_prediction: float | None = None  # from sending the rerun to the metric's arrival
    seconds: float = 0.0  # from sending the rerun to script_finished
    prediction: str | None = None
    errors: list[str] = field(default_factory=list)
    widget_ids: dict[str, str] = field(default_factory=dict)  # widget key -> element id
    media: list[str] = field(default_factory=list)


def _element_of(msg: ForwardMsg):
    if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
        return None, None
    element = msg.delta.new_element
    kind = element.WhichOneof("type")
    return kind, (getattr(element, kind) if kind else None)


class WireSession:
    """One browser tab's worth of websocket conversation with the Streamlit server."""

    def __init__(self, url: str, page_name: str, socket) -> None:
        self.url, self.page_name, self.socket = url, page_name, socket
        self.widget_ids: dict[str, str] = {}
        self._media_tasks: set[asyncio.Task] = set()
        self.media_fetched = 0

    @classmethod
    async def open(cls, url: str, page_name: str = "draw", timeout_s: float = 120.0) -> "WireSession":
        from websockets.asyncio.client import connect

        ws_url = url.replace("http://", "ws://", 1) + "/_stcore/stream"
        socket = await asyncio.wait_for(connect(ws_url, subprotocols=["streamlit"], max_size=None,
                                                open_timeout=timeout_s), timeout_s)
        session = cls(url, page_name, socket)
        first = await session.rerun([], timeout_s=timeout_s)  # what a page load sends first
        if first.errors:
            raise WireError("; ".join(first.errors))
        return session

    async def rerun(self, widgets: list[WidgetState], timeout_s: float = 120.0) -> Run:
        message = BackMsg()
        message.rerun_script.page_name = self.page_name
        message.rerun_script.widget_states.widgets.extend(widgets)
        message.rerun_script.context_info.timezone = "UTC"
        message.rerun_script.context_info.locale = "en-US"
        message.rerun_script.context_info.url = f"{self.url}/{self.page_name}"
        run = Run()
        start = time.monotonic()
        await self.socket.send(message.SerializeToString())
        try:
            await asyncio.wait_for(self._read_until_finished(run, start), timeout_s)
        except asyncio.TimeoutError:
            run.errors.append(f"no script_finished within {timeout_s:.0f} s")
        run.seconds = time.monotonic() - start
        self.widget_ids.update(run.widget_ids)
        return run

    async def _read_until_finished(self, run: Run, start: float) -> None:
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await self.socket.recv())
            kind = msg.WhichOneof("type")
            if kind == "script_finished":
                if msg.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    run.errors.append("the page failed to compile")
                return
            if kind == "page_not_found":
                run.errors.append(f"page not found: {self.page_name}")
                continue
            element_kind, element = _element_of(msg)
            if element_kind is None:
                continue
            if element_kind == "exception":
                run.errors.append(f"exception shown: {element.type}: {element.message[:160]}")
            elif element_kind == "alert" and element.format == element.ERROR:
                run.errors.append(f"error shown: {element.body[:160]}")
            elif element_kind == "metric" and element.label == PREDICTION_LABEL and run.prediction is None:
                run.prediction = element.body
                run.seconds_to_prediction = time.monotonic() - start
            elif element_kind == "imgs":
                for img in element.imgs:
                    if img.url.startswith("/"):  # fetched at once, as a browser does on render
                        run.media.append(img.url)
                        self._fetch_soon(img.url)
            widget_id = getattr(element, "id", "")
            if isinstance(widget_id, str) and widget_id.startswith("$$ID-"):
                run.widget_ids[widget_id.rsplit("-", 1)[-1]] = widget_id

    def _fetch_soon(self, path: str) -> None:
        task = asyncio.create_task(self._fetch(path))
        self._media_tasks.add(task)
        task.add_done_callback(self._media_tasks.discard)

    async def _fetch(self, path: str) -> None:
        def get() -> None:
            with urllib.request.urlopen(self.url + path, timeout=60) as response:
                response.read()
        try:
            await asyncio.to_thread(get)
            self.media_fetched += 1
        except OSError:
            pass  # a picture replaced by the next run before it was fetched; a browser skips it too

    def _canvas_id(self) -> str:
        keys = sorted((key for key in self.widget_ids if key.startswith("draw_canvas_")),
                      key=lambda key: int(key.rsplit("_", 1)[-1]))
        if not keys:
            raise WireError("no canvas on the page")
        return self.widget_ids[keys[-1]]

    async def draw(self, strokes, timeout_s: float = 120.0) -> Run:
        """Send a drawing, as the canvas does on mouse-up; the run ends with the prediction shown."""
        state = WidgetState(id=self._canvas_id(), json_value=canvas_state(strokes))
        run = await self.rerun([state], timeout_s)
        if run.prediction is None and not run.errors:
            run.errors.append("the run finished without a prediction")
        return run

    async def clear(self, timeout_s: float = 120.0) -> Run:
        """Press Clear: a button's trigger; the next canvas has a new key."""
        if "draw_clear" not in self.widget_ids:
            raise WireError("no Clear button on the page")
        return await self.rerun([WidgetState(id=self.widget_ids["draw_clear"], trigger_value=True)], timeout_s)

    async def close(self) -> None:
        if self._media_tasks:
            await asyncio.gather(*self._media_tasks, return_exceptions=True)
        await self.socket.close()
