"""Heavy requests take turns: one runs at a time (by default), the others wait, and a failing request gives its
turn back."""
import threading

import pytest
import streamlit as st

from genlab.ui.busy import take_turn, turns


@pytest.fixture(autouse=True)
def fresh_queues():
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def test_a_second_request_waits_until_the_first_is_done():
    order, first_inside, release_first = [], threading.Event(), threading.Event()

    def first():
        with take_turn("test", "things"):
            order.append("first starts")
            first_inside.set()
            release_first.wait(30)
            order.append("first ends")

    def second():
        first_inside.wait(30)
        with take_turn("test", "things"):
            order.append("second starts")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    first_inside.wait(30)
    while turns("test").waiting == 0:  # the second one has queued
        threading.Event().wait(0.01)
    assert order == ["first starts"]
    release_first.set()
    for t in threads:
        t.join(30)
    assert order == ["first starts", "first ends", "second starts"]
    assert turns("test").running == 0 and turns("test").waiting == 0


def test_a_failing_request_gives_its_turn_back():
    with pytest.raises(RuntimeError):
        with take_turn("test", "things"):
            raise RuntimeError("the model broke")
    assert turns("test").running == 0
    with take_turn("test", "things"):  # free again at once
        assert turns("test").running == 1


def test_the_number_of_slots_is_configurable(monkeypatch):
    monkeypatch.setenv("GENLAB_HEAVY_SLOTS", "2")
    with take_turn("wide", "things"), take_turn("wide", "things"):
        assert turns("wide").running == 2 and turns("wide").waiting == 0
