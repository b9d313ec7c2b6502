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

It can also do what a browser's other widgets do, which is how the tests craft requests a page
would not let a student make (a disabled button pressed all the same):

    await session.set_values({"send_label": {"string_array_value": {"data": ["4"]}}})  # a pill chosen
    await session.press("send_button")                       # a button's trigger, by its key
    await session.select_points("wall_chart", [12])          # a click on a plotly chart's point
    teacher = await WireSession.open(url, "class", query="teacher=TOKEN")   # a link's query string

Like a browser, it sends every value it has set with each later rerun (a drawing, a chosen pill);
each :class:`Run` keeps the texts the page showed, which widgets were disabled and its ``st.html``
bodies. A ``run_every`` fragment is the browser's timer: ``session.auto_reruns`` holds the ids and
intervals the runs asked for, ``await session.poll(fragment_id)`` sends what the timer sends.

Behind HAProxy (``make run REPLICAS=N``, serve/) a student keeps the load balancer's cookie, as a
browser does: ``open(url, "draw", cookie="CNNX_SERVER=s2")`` sends it with the websocket and
every picture fetched; ``served_by`` (the websocket's) and ``media_answers`` (each picture's
status and server) show which process answered.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from PIL import Image, ImageDraw
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from serve.haproxy import SERVER_HEADER

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
        objects.append(
            {
                "type": "Path",
                "version": "7.4.0",
                "originX": "center",
                "originY": "center",
                "left": (min(xs) + max(xs)) / 2,
                "top": (min(ys) + max(ys)) / 2,
                "width": max(xs) - min(xs),
                "height": max(ys) - min(ys),
                "fill": None,
                "stroke": "#FFFFFF",
                "strokeWidth": stroke_px,
                "strokeLineCap": "round",
                "strokeLineJoin": "round",
                "path": [["M", *points[0]]] + [["L", x, y] for x, y in points[1:]],
            }
        )
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
    texts: list[str] = field(default_factory=list)  # markdown, captions, alerts, progress, metrics
    disabled: dict[str, bool] = field(default_factory=dict)  # widget key -> shown disabled
    fragment_of: dict[str, str] = field(default_factory=dict)  # widget key -> its st.fragment's id
    htmls: list[str] = field(default_factory=list)  # the bodies of the st.html elements it drew
    auto_reruns: dict[str, float] = field(default_factory=dict)  # fragment id -> its run_every (s)
    query_string: str | None = None  # the address's query the page set (page_info_changed); None: unchanged

    def shows(self, words: str) -> bool:
        """Whether any text the run showed contains ``words``."""
        return any(words in text for text in self.texts)


@dataclass(frozen=True)
class MediaAnswer:
    """How the server answered one picture's fetch: its status, the process that answered (HAProxy's
    ``X-CNNX-Server``; None without HAProxy) and any cookie it set (a sticky one never changes)."""

    path: str
    status: int
    served_by: str | None
    set_cookie: str | None


def _element_of(msg: ForwardMsg):
    if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
        return None, None
    element = msg.delta.new_element
    kind = element.WhichOneof("type")
    return kind, (getattr(element, kind) if kind else None)


class WireSession:
    """One browser tab's worth of websocket conversation with the Streamlit server."""

    def __init__(self, url: str, page_name: str, socket, query: str = "") -> None:
        self.url, self.page_name, self.socket = url, page_name, socket
        self.query = query  # sent with the first rerun only, as a link's query string is
        self.address_query: str | None = None  # keep_query: the address bar's, sent with every rerun
        self.widget_ids: dict[str, str] = {}
        self.fragment_of: dict[str, str] = {}  # widget key -> the st.fragment it is in
        self.values: dict[str, WidgetState] = {}  # widget id -> the value this student set
        self._media_tasks: set[asyncio.Task] = set()
        self.media_fetched = 0
        self.cookie = ""  # the Cookie header sent with the websocket and each fetch (behind HAProxy)
        self.served_by: str | None = None  # the process that answered the websocket (HAProxy's header)
        self.media_answers: list[MediaAnswer] = []
        self.opened: Run | None = None  # the first run: what the page showed when it opened
        self.auto_reruns: dict[str, float] = {}  # run_every fragment id -> seconds, until stop_auto_rerun
        self.page_script_hash = ""  # the page the server says it ran (navigation), sent with a poll

    @classmethod
    async def open(
        cls,
        url: str,
        page_name: str = "draw",
        timeout_s: float = 120.0,
        query: str = "",
        cookie: str = "",
        keep_query: bool = False,
    ) -> WireSession:
        """Open ``page_name`` as a browser tab does; ``query``: the link's query string (``a=1&b=2``);
        ``cookie``: a Cookie header to keep (HAProxy's, which holds a student to one process; or a
        student's key, ``cnnx_student=...``); ``keep_query``: send the address's query with every
        rerun, not only the first."""
        from websockets.asyncio.client import connect

        ws_url = url.replace("http://", "ws://", 1) + "/_stcore/stream"
        socket = await asyncio.wait_for(
            connect(
                ws_url,
                subprotocols=["streamlit"],
                max_size=None,
                open_timeout=timeout_s,
                additional_headers={"Cookie": cookie} if cookie else None,
            ),
            timeout_s,
        )
        session = cls(url, page_name, socket, query)
        session.cookie = cookie
        if keep_query:
            session.address_query = query
        session.served_by = socket.response.headers.get(SERVER_HEADER) if socket.response else None
        first = await session.rerun([], timeout_s=timeout_s)  # what a page load sends first
        session.opened = first
        if first.errors:
            raise WireError("; ".join(first.errors))
        return session

    async def rerun(
        self, widgets: list[WidgetState], timeout_s: float = 120.0, fragment_id: str = "", auto: bool = False
    ) -> Run:
        """One script run with these widget states; ``fragment_id``: only that fragment reruns, as
        when a browser's widget inside an ``st.fragment`` changes; ``auto``: the browser's own timer
        asks for it (a ``run_every`` fragment's, see :meth:`poll`)."""
        message = BackMsg()
        message.rerun_script.page_name = self.page_name
        message.rerun_script.widget_states.widgets.extend(widgets)
        message.rerun_script.fragment_id = fragment_id
        message.rerun_script.is_auto_rerun = auto
        if auto:  # as the browser's timer does; without it the server takes the run for a change of page
            message.rerun_script.page_script_hash = self.page_script_hash
        message.rerun_script.context_info.timezone = "UTC"
        message.rerun_script.context_info.locale = "en-US"
        message.rerun_script.context_info.url = f"{self.url}/{self.page_name}"
        query = self.query or self.address_query or ""
        if query:
            message.rerun_script.query_string = query
            message.rerun_script.context_info.url += "?" + query
            self.query = ""
        run = Run()
        start = time.monotonic()
        await self.socket.send(message.SerializeToString())
        try:
            await asyncio.wait_for(self._read_until_finished(run, start), timeout_s)
        except TimeoutError:
            run.errors.append(f"no script_finished within {timeout_s:.0f} s")
        run.seconds = time.monotonic() - start
        if run.query_string is not None and self.address_query is not None:
            self.address_query = run.query_string
        self.widget_ids.update(run.widget_ids)
        self.fragment_of.update(run.fragment_of)
        return run

    async def poll(self, fragment_id: str, timeout_s: float = 120.0) -> Run:
        """What a browser sends every ``run_every`` seconds for that fragment (the ids and intervals
        are in :attr:`auto_reruns`): the fragment's rerun, with the values set so far."""
        return await self.rerun(list(self.values.values()), timeout_s, fragment_id, auto=True)

    async def _read_until_finished(self, run: Run, start: float) -> None:
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await self.socket.recv())
            kind = msg.WhichOneof("type")
            if kind == "script_finished":  # the whole page's run, or a fragment's
                if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue  # the page asked for a rerun (st.rerun): it follows on this socket
                if msg.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    run.errors.append("the page failed to compile")
                return
            if kind == "page_not_found":
                run.errors.append(f"page not found: {self.page_name}")
            elif kind == "auto_rerun":
                run.auto_reruns[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
                self.auto_reruns[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
            elif kind == "stop_auto_rerun":
                for fragment_id in msg.stop_auto_rerun.fragment_ids:
                    self.auto_reruns.pop(fragment_id, None)
            elif kind == "navigation":
                self.page_script_hash = msg.navigation.page_script_hash
            elif kind == "page_info_changed":
                run.query_string = msg.page_info_changed.query_string
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
            if element_kind in ("markdown", "alert"):  # what the page said, for the tests to read
                run.texts.append(element.body)
            elif element_kind == "progress":
                run.texts.append(element.text)
            elif element_kind == "metric":
                run.texts.append(f"{element.label}: {element.body}")
            elif element_kind == "html":
                run.htmls.append(element.body)
            widget_id = getattr(element, "id", "")
            if isinstance(widget_id, str) and widget_id.startswith("$$ID-"):
                key = widget_id.rsplit("-", 1)[-1]
                run.widget_ids[key] = widget_id
                if msg.delta.fragment_id:
                    run.fragment_of[key] = msg.delta.fragment_id
                if isinstance(getattr(element, "disabled", None), bool):
                    run.disabled[key] = element.disabled

    def _fetch_soon(self, path: str) -> None:
        task = asyncio.create_task(self._fetch(path))
        self._media_tasks.add(task)
        task.add_done_callback(self._media_tasks.discard)

    async def _fetch(self, path: str) -> None:
        def get() -> None:
            request = urllib.request.Request(self.url + path, headers={"Cookie": self.cookie} if self.cookie else {})
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    response.read()
                    self._answered(path, response.status, response.headers)
            except urllib.error.HTTPError as exc:
                self._answered(path, exc.code, exc.headers)
                raise

        try:
            await asyncio.to_thread(get)
            self.media_fetched += 1
        except OSError:
            pass  # a picture replaced by the next run before it was fetched; a browser skips it too

    def _answered(self, path: str, status: int, headers) -> None:
        self.media_answers.append(MediaAnswer(path, status, headers.get(SERVER_HEADER), headers.get("Set-Cookie")))

    def _canvas_id(self) -> str:
        keys = sorted(
            (key for key in self.widget_ids if key.startswith("draw_canvas_")),
            key=lambda key: int(key.rsplit("_", 1)[-1]),
        )
        if not keys:
            raise WireError("no canvas on the page")
        return self.widget_ids[keys[-1]]

    def _widget_id(self, key: str) -> str:
        if key not in self.widget_ids:
            raise WireError(f"no widget {key!r} on the page (seen: {', '.join(sorted(self.widget_ids))})")
        return self.widget_ids[key]

    async def draw(self, strokes, timeout_s: float = 120.0) -> Run:
        """Send a drawing, as the canvas does on mouse-up; the run ends with the prediction shown."""
        canvas = self._canvas_id()
        self.values = {wid: state for wid, state in self.values.items() if "-draw_canvas_" not in wid}
        self.values[canvas] = WidgetState(id=canvas, json_value=canvas_state(strokes))
        run = await self.rerun(list(self.values.values()), timeout_s)
        if run.prediction is None and not run.errors:
            run.errors.append("the run finished without a prediction")
        return run

    async def clear(self, timeout_s: float = 120.0) -> Run:
        """Press Clear: a button's trigger; the next canvas has a new key."""
        if "draw_clear" not in self.widget_ids:
            raise WireError("no Clear button on the page")
        self.values = {wid: state for wid, state in self.values.items() if "-draw_canvas_" not in wid}
        return await self.rerun([WidgetState(id=self.widget_ids["draw_clear"], trigger_value=True)], timeout_s)

    async def set_values(self, values: dict[str, dict], timeout_s: float = 120.0) -> Run:
        """Set widgets by key, as a browser does when a student changes them, e.g.
        ``{"tr_epochs": {"double_value": 2}, "tr_name": {"string_value": "run"}}``; one rerun."""
        for key, value in values.items():
            wid = self._widget_id(key)
            self.values[wid] = WidgetState(id=wid, **value)
        return await self.rerun(list(self.values.values()), timeout_s, self._fragment(*values))

    async def press(self, key: str, timeout_s: float = 120.0) -> Run:
        """Press the button ``key`` (its trigger, with the values set so far), whether or not the
        page shows it enabled: what a crafted request does."""
        trigger = WidgetState(id=self._widget_id(key), trigger_value=True)
        return await self.rerun([*self.values.values(), trigger], timeout_s, self._fragment(key))

    def _fragment(self, *keys: str) -> str:
        """The fragment these widgets are in, when all are in the same one: a browser reruns only
        that fragment. Else "" (the whole page)."""
        fragments = {self.fragment_of.get(key, "") for key in keys}
        return fragments.pop() if len(fragments) == 1 else ""

    async def select_points(self, key: str, customdata: list, timeout_s: float = 120.0) -> Run:
        """Click points of the plotly chart ``key`` (``on_select="rerun"``): the selection a
        browser reports, each point given by its customdata."""
        selection = {
            "selection": {
                "points": [{"customdata": c, "point_index": i} for i, c in enumerate(customdata)],
                "point_indices": list(range(len(customdata))),
                "box": [],
                "lasso": [],
            }
        }
        wid = self._widget_id(key)
        self.values[wid] = WidgetState(id=wid, string_value=json.dumps(selection))
        return await self.rerun(list(self.values.values()), timeout_s)

    async def send_to_class(self, label: int, nickname: str | None = None, timeout_s: float = 120.0) -> Run:
        """On /draw after :meth:`draw`: choose the digit meant, then press Send (two reruns, as
        two clicks in a browser make). The page then forgets the digit meant; so does this."""
        values = {"send_label": {"string_array_value": {"data": [str(label)]}}}
        if nickname is not None:
            values["send_nickname"] = {"string_value": nickname}
        chosen = await self.set_values(values, timeout_s)
        if chosen.errors:
            return chosen
        run = await self.press("send_button", timeout_s)
        self.values.pop(self.widget_ids["send_label"], None)
        return run

    async def close(self) -> None:
        if self._media_tasks:
            await asyncio.gather(*self._media_tasks, return_exceptions=True)
        await self.socket.close()
