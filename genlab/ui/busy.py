"""Heavy requests take turns, so a class asking for many PixelCNN completions at once queues politely instead of
stalling the server: every browser session's script runs in the same process, and a few CPU-heavy requests at
the same time only make each of them slower (and the light ones, like a slider, wait behind them).

    with take_turn("autoregressive", "completions"):
        result = complete(...)

A request that has to wait shows how many are ahead of it, and it checks about twice a second whether its
browser is still there (Streamlit stops a script at its next st.* call once the browser has gone), so a closed
tab never holds a place in the queue.
"""
from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass, field

import streamlit as st


@dataclass
class Turns:
    """A queue of heavy requests of one sort, shared by every session: `slots` of them run at a time."""
    slots: int
    running: int = 0
    waiting: int = 0
    lock: threading.Condition = field(default_factory=threading.Condition)


def heavy_slots() -> int:
    """How many heavy requests run at once: GENLAB_HEAVY_SLOTS, else 1 (a CPU is best used by one at a time)."""
    return max(1, int(os.environ.get("GENLAB_HEAVY_SLOTS", "1")))


@st.cache_resource(show_spinner=False)
def turns(name: str) -> Turns:
    return Turns(slots=heavy_slots())


@contextlib.contextmanager
def take_turn(name: str, what: str):
    """Run the body when a slot for `name` is free; meanwhile show a 'busy' note with the queue length."""
    queue = turns(name)
    with queue.lock:
        free = queue.running < queue.slots
        if free:
            queue.running += 1
        else:
            queue.waiting += 1
    note = None
    if not free:
        try:
            note = st.empty()
            while True:
                with queue.lock:
                    if queue.running < queue.slots:
                        queue.running += 1
                        break
                    ahead = queue.running + queue.waiting - 1
                note.info(f"The server is busy: {ahead} other request(s) for {what} are ahead of yours. It starts "
                          "by itself as soon as they finish.")  # also where a closed browser stops this script
                with queue.lock:
                    queue.lock.wait(timeout=0.5)
        finally:
            with queue.lock:
                queue.waiting -= 1
    try:  # from here on this request holds a slot, which the finally below gives back whatever happens
        if note is not None:
            note.empty()
        yield
    finally:
        with queue.lock:
            queue.running -= 1
            queue.lock.notify()
