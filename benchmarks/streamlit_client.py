"""A student without a browser: one Streamlit session spoken over the app's own websocket protocol.

Streamlit's front end and server talk over one websocket, `/_stcore/stream`: the browser sends `BackMsg`
protocol buffers (chiefly "rerun the script of this page with these widget values") and the server answers
with `ForwardMsg`s (the page's elements as deltas at a path in the element tree, then "script finished").
This client sends the same messages a browser sends and keeps the same element tree, without rendering
anything, so a load test costs the test machine little: a class's browsers run on the students' laptops, not
on the teacher's server. The protocol buffers are the installed `streamlit.proto` ones.

    session = Session("http://127.0.0.1:8501")
    await session.open()
    await session.visit("VAE_explorer", query="tab=Sliders+%26+traversals")
    timing = await session.set_widget("slider_z0", 1.0, until=image_under("sliders_decoded"))
    await session.close()

Widgets are named by their key (a keyed widget's id ends in "-key"). Values are sent as the browser sends
them: sliders as a list of numbers, select boxes and radios as the option's label, multiselects as labels,
buttons as a trigger, a custom component (components.v2) as its JSON state. What a browser also does and this
client copies: the fragments that ask to rerun every few seconds (`st.fragment(run_every=...)`) are rerun
on that schedule, and the images an answer names are requested over HTTP the moment they arrive, as a browser's
<img> does; the next action waits until they have loaded, as a person looking at the page does.
Only the address given is contacted (the load tests give 127.0.0.1).
"""
from __future__ import annotations

import asyncio
import http.client
import json
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

FINAL = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
         ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}  # not FINISHED_EARLY_FOR_RERUN: another run follows
FRAGMENT_DONE = ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
# Every student's images are fetched by these threads (each browser has connections of its own; asyncio's
# default pool, 6 threads here, queued one student's image behind the whole class's). The time an image waits
# for a thread is part of the fetch time the report gives.
FETCH_POOL = ThreadPoolExecutor(max_workers=64, thread_name_prefix="image-fetch")
WIDGET_KINDS = ("slider", "selectbox", "multiselect", "radio", "number_input", "button", "checkbox", "text_input",
                "bidi_component", "button_group", "file_uploader")


@dataclass
class Element:
    path: tuple[int, ...]
    kind: str  # the Element proto's field name: "imgs", "markdown", "slider", ... or "block"
    proto: object  # that field's message
    run: int  # the script run that sent it (older elements are dropped when a full run finishes)
    at: float  # time.perf_counter() when it arrived
    fragment: str = ""  # the st.fragment it belongs to: its widgets rerun that fragment only, as in the browser


@dataclass
class Timing:
    """One action: seconds from sending it to the awaited element (None if it never came) and to the end of the
    script run, and what the page showed meanwhile."""
    to_result: float | None
    to_finished: float
    errors: list[str] = field(default_factory=list)


class ProtocolError(RuntimeError):
    pass


def widget_state(element: Element, value) -> BackMsg:
    """A WidgetState for `element` holding `value`, typed as the browser types it."""
    state = BackMsg().rerun_script.widget_states.widgets.add()
    state.id = element.proto.id
    kind = element.kind
    if kind == "slider":
        state.double_array_value.data.extend(value if isinstance(value, (list, tuple)) else [value])
    elif kind in ("selectbox", "radio", "text_input", "block"):  # a block: tabs, whose value is the tab's label
        state.string_value = str(value)
    elif kind in ("multiselect", "button_group"):
        state.string_array_value.data.extend(str(v) for v in value)
    elif kind == "number_input":
        state.double_value = float(value)
    elif kind == "checkbox":
        state.bool_value = bool(value)
    elif kind == "button":
        state.trigger_value = True
    elif kind == "bidi_component":
        state.json_value = json.dumps(value)
    else:
        raise ValueError(f"no widget value for a {kind}")
    return state


class Session:
    """One browser tab's session: a websocket, the element tree of the page it shows, its widget values."""

    def __init__(self, url: str, timeout_s: float = 120.0, fetch_images: bool = True):
        self.url = url.rstrip("/")
        self.fetch_images = fetch_images  # request every new image over HTTP, as a browser does
        self.timeout_s = timeout_s
        self.elements: dict[tuple[int, ...], Element] = {}
        self.pages: dict[str, str] = {}  # url path ("" for the home page) -> page script hash
        self.page = ""  # the url path shown now
        self.query = ""
        self.values: dict[str, object] = {}  # widget id -> WidgetState sent with every rerun of this page
        self.tab: tuple[str, str] | None = None  # (tabs key, label) its user last opened on this page, if any
        self.run = 0  # full page runs asked for (our counter; fragment and timer reruns leave it as it is)
        self.finished = asyncio.Event()
        self.expect: str | None = None  # what the request in flight reruns: "" the page, else a fragment's id
        self.status: int | None = None
        self.fragment_timers: dict[str, asyncio.Task] = {}
        self.messages = 0
        self.bytes_received = 0
        self.image_bytes = 0
        self.fetched: set[str] = set()  # image addresses already requested (a media address names its content)
        self.image_failures: list[str] = []  # images still on the page that the server did not serve
        self.stale_image_failures: list[str] = []  # ... and ones the page had replaced before the answer came
        self.image_wait_s: list[float] = []  # from an image's arrival to the end of its fetch
        self._fetches: set[asyncio.Task] = set()
        self._ws = None
        self._reader: asyncio.Task | None = None
        self._changed = asyncio.Event()
        self._waiting: tuple[Callable, float] | None = None  # (until, start) of the action in flight
        self._result_at: float | None = None
        self._wait_error: Exception | None = None  # raised by `until` in the reader; re-raised by the action

    # -- connection ----------------------------------------------------------------------------------------
    async def open(self) -> None:
        import websockets

        stream = self.url.replace("http://", "ws://", 1) + "/_stcore/stream"
        self._ws = await websockets.connect(stream, subprotocols=["streamlit"], max_size=None,
                                            open_timeout=self.timeout_s)
        self._reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        self._stop_timers()
        await self._images_loaded()  # the last images are counted too
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):
                pass

    async def _read(self) -> None:
        try:
            async for data in self._ws:
                self.messages += 1
                self.bytes_received += len(data)
                message = ForwardMsg()
                message.ParseFromString(data)
                was_finished = self.finished.is_set()
                self._take(message)
                # Checked after every message, not when the action's task next wakes: messages that came in
                # together are taken in one go, and a timed fragment's rerun may already have replaced the image.
                # Not after the action's run has finished: a later run's image is not its answer.
                if self._waiting is not None and self._result_at is None and not was_finished:
                    try:
                        if self._waiting[0](self, self._waiting[1]):
                            self._result_at = time.perf_counter()
                    except Exception as error:  # the action's own check failed: the action reports it
                        self._wait_error, self._waiting = error, None
                self._changed.set()
        finally:
            self._changed.set()  # a waiting action sees at once that the connection has gone

    def _take(self, message: ForwardMsg) -> None:
        kind = message.WhichOneof("type")
        if kind == "navigation":
            self.pages = {page.url_pathname: page.page_script_hash for page in message.navigation.app_pages}
        elif kind == "delta":
            self._take_delta(tuple(message.metadata.delta_path), message.delta)
        elif kind == "script_finished":
            self.status = message.script_finished
            if message.script_finished == FRAGMENT_DONE:
                # the end of the fragment rerun a widget asked for, or of a timed one (the Train page's live
                # view), which must not count as the answer to a request for a whole page
                if self.expect:
                    self.finished.set()
            elif message.script_finished in FINAL:
                # a full run redraws the page: what it did not send again is gone (as in the browser)
                self.elements = {p: e for p, e in self.elements.items() if e.run == self.run}
                if self.expect == "":
                    self.finished.set()
        elif kind == "auto_rerun":  # a fragment with run_every: the browser reruns it on that schedule
            fragment = message.auto_rerun.fragment_id
            if fragment not in self.fragment_timers:
                self.fragment_timers[fragment] = asyncio.create_task(
                    self._rerun_fragment_every(fragment, message.auto_rerun.interval))
        elif kind == "stop_auto_rerun":
            for fragment in message.stop_auto_rerun.fragment_ids:
                if fragment in self.fragment_timers:
                    self.fragment_timers.pop(fragment).cancel()
        elif kind == "new_session":  # a full run starts: the fragments it draws ask again for their timers
            self._stop_timers()
        elif kind == "ref_hash":  # never asked for (we report no cached messages), so never expected
            raise ProtocolError("the server referred to a cached message this client never claimed")

    def _take_delta(self, path: tuple[int, ...], delta) -> None:
        which = delta.WhichOneof("type")
        now = time.perf_counter()
        if which == "new_element":
            kind = delta.new_element.WhichOneof("type")
            self.elements[path] = Element(path, kind, getattr(delta.new_element, kind), self.run, now,
                                          delta.fragment_id)
            if kind == "imgs" and self.fetch_images:
                self._fetch_new_images(self.elements[path])
        elif which == "add_block":
            # a block replaces whatever was at its path, children included
            self.elements = {p: e for p, e in self.elements.items() if p[:len(path)] != path or p == path}
            self.elements[path] = Element(path, "block", delta.add_block, self.run, now, delta.fragment_id)
        # new_transient (spinners while it works) leaves the page's elements as they are

    def _stop_timers(self) -> None:
        for task in self.fragment_timers.values():
            task.cancel()
        self.fragment_timers.clear()

    async def _rerun_fragment_every(self, fragment: str, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            await self._send_rerun(fragment_id=fragment, auto=True)

    # -- what a browser sends --------------------------------------------------------------------------------
    async def _send_rerun(self, *, trigger=None, fragment_id: str = "", auto: bool = False) -> None:
        message = BackMsg()
        client = message.rerun_script
        client.query_string = self.query
        client.page_script_hash = self.pages.get(self.page, "")
        client.page_name = self.page
        client.fragment_id = fragment_id
        client.is_auto_rerun = auto
        for state in self.values.values():
            client.widget_states.widgets.add().CopyFrom(state)
        if trigger is not None:
            client.widget_states.widgets.add().CopyFrom(trigger)
        if not auto:  # a student's own request: what _act waits for
            self.expect = fragment_id
            self.finished.clear()
            if not fragment_id:
                self.run += 1
        await self._ws.send(message.SerializeToString())

    async def _act(self, until: Callable[["Session", float], bool] | None, **rerun) -> Timing:
        # A person acts on what the page shows: once its pictures have loaded. (Acting 15 ms after they arrive
        # starts a full run that unlists them, and the end of any session's run then deletes them: the fetch
        # gets a 404 that no student at a browser would cause.)
        await self._images_loaded()
        start = time.perf_counter()
        self._waiting, self._result_at, self._wait_error = ((until, start) if until is not None else None), None, None
        try:
            await self._send_rerun(**rerun)
            deadline = start + self.timeout_s
            while not self.finished.is_set():  # the run's messages come in order: its image came before, or never will
                if self._reader.done():
                    raise ProtocolError("the server closed the connection")
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    raise TimeoutError(f"no answer within {self.timeout_s:.0f} s on {self.page or 'the home page'}")
                self._changed.clear()
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except asyncio.TimeoutError:
                    pass
                if self._reader.done():
                    raise ProtocolError("the server closed the connection")
            if self._wait_error is not None:
                raise self._wait_error
            result_at = self._result_at
        finally:
            self._waiting = None
        finished = time.perf_counter() - start
        return Timing(None if result_at is None else result_at - start, finished, self.errors())

    async def visit(self, page: str, query: str = "", until=None) -> Timing:
        """Open a page (its url path, "" for home) as a link in the sidebar does: a rerun with its script hash."""
        self._stop_timers()  # the last page's timed fragments stop, as in the browser
        self.page, self.query, self.values, self.tab = page, query, {}, None  # the first visit: no hash known yet
        return await self._act(until)

    async def set_widget(self, key: str, value, until=None) -> Timing:
        """Give the widget whose key is `key` a value and rerun, as the browser does when it changes."""
        element = self.widget(key)
        state = widget_state(element, value)
        if element.kind == "button":
            return await self._act(until, trigger=state, fragment_id=element.fragment)
        self.values[state.id] = state
        return await self._act(until, fragment_id=element.fragment)

    def value_of(self, key: str):
        """The value this session last gave the widget with key `key` (None if it never set one)."""
        state = self.values.get(self.widget(key).proto.id)
        return getattr(state, state.WhichOneof("value")) if state is not None else None

    def _fetch_new_images(self, element: Element) -> None:
        """Request each new image address at once, in the background, as a browser's <img> does when the element
        arrives (an address names its content: one already fetched is not fetched again)."""
        for image in element.proto.imgs:
            if image.url.startswith("/") and image.url not in self.fetched:
                self.fetched.add(image.url)
                task = asyncio.create_task(self._fetch(image.url))
                self._fetches.add(task)
                task.add_done_callback(self._fetches.discard)

    async def _images_loaded(self) -> None:
        """Until every image request made so far is answered (or timeout_s has passed)."""
        if self._fetches:
            await asyncio.wait(set(self._fetches), timeout=self.timeout_s)

    async def _fetch(self, url: str) -> None:
        arrived, run, page = time.perf_counter(), self.run, self.page
        try:
            body = await asyncio.get_running_loop().run_in_executor(FETCH_POOL, _get, self.url + url)
            self.image_bytes += len(body)
        except (OSError, http.client.HTTPException) as error:  # urllib's HTTPError (a 404), network errors
            # Streamlit drops a run's files once a newer run of the session no longer shows them; a browser
            # has replaced that <img> too, so only an image the page still shows is a broken picture.
            still_shown = any(url in (image.url for image in element.proto.imgs)
                              for element in list(self.elements.values()) if element.kind == "imgs")
            (self.image_failures if still_shown else self.stale_image_failures).append(
                f"{url} on {page or 'home'} ({self.run - run} page runs later, "
                f"{time.perf_counter() - arrived:.3f} s after it arrived): {error}")
        finally:
            self.image_wait_s.append(time.perf_counter() - arrived)

    # -- what the page shows ---------------------------------------------------------------------------------
    def widget(self, key: str) -> Element:
        for element in self.elements.values():
            ident = getattr(element.proto, "id", "") if element.kind != "block" else element.proto.id
            if ident and (ident.endswith("-" + key) or ident == key) and (
                    element.kind in WIDGET_KINDS or element.kind == "block"):
                return element
        raise LookupError(f"no widget with key {key!r} on {self.page or 'the home page'}")

    def keyed(self, key: str) -> Element | None:
        """The element or container made with key=`key`, if the page shows it (a container's children's paths
        start with its path)."""
        for element in list(self.elements.values()):
            if getattr(element.proto, "id", "").endswith("-" + key):
                return element
        return None

    def captions(self, since: float = 0.0) -> list[str]:
        return [image.caption for e in list(self.elements.values()) if e.kind == "imgs" and e.at >= since
                for image in e.proto.imgs]

    def texts(self, since: float = 0.0) -> list[str]:
        found = []
        for e in list(self.elements.values()):
            if e.at >= since and e.kind in ("markdown", "text", "heading", "progress"):
                found.append(getattr(e.proto, "body", "") or getattr(e.proto, "text", ""))
        return found

    def errors(self) -> list[str]:
        """What a student would see as an error: exception boxes and error alerts, in the page's own words."""
        shown = []
        for e in list(self.elements.values()):
            if e.kind == "exception":
                shown.append(f"{e.proto.type}: {e.proto.message}"[:200])
            elif e.kind == "alert" and e.proto.format == e.proto.ERROR:
                shown.append(e.proto.body[:200])
        return shown


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


# -- what an action waits for ------------------------------------------------------------------------------

def caption_starting(prefix: str):
    """Until: an image whose caption starts with `prefix` arrived after the action was sent."""
    return lambda session, start: any(c.startswith(prefix) for c in session.captions(start))


def image_under(key: str):
    """Until: a new image inside the container with key `key` arrived after the action was sent."""
    def done(session: Session, start: float) -> bool:
        block = session.keyed(key)
        if block is None:
            return False
        path = block.path
        return any(e.kind == "imgs" and e.at >= start and e.path[:len(path)] == path
                   for e in list(session.elements.values()))
    return done


def shows(key: str):
    """Until: the element with key `key` is on the page, sent after the action."""
    return lambda session, start: (element := session.keyed(key)) is not None and element.at >= start


def captions_matching(test: Callable[[str], bool], count: int):
    return lambda session, start: sum(map(test, session.captions(start))) >= count


def text_matching(test: Callable[[str], bool]):
    return lambda session, start: any(test(t) for t in session.texts(start))
