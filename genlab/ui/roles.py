"""Who this browser is: the teacher (it showed the teacher key once) or an anonymous student.

    ensure_teacher_key()        # app.py: once per server, read the key or make one (genlab/classroom.py)
    claim_teacher_from_url()    # app.py, every run: ?teacher=KEY makes this browser the teacher, and the key
                                # leaves the address bar at once (it must not be projected)
    keep_seat()                 # app.py: gives a new browser its seat cookie
    me()                        # "teacher", or this browser's "student-3f2a9c"
    is_teacher()

A browser is recognised by a random "seat" cookie (genlab_seat) that a tiny component sets on its first visit,
so a reload, a second tab or another page is still the same student, or still the teacher: the server keeps the
seats that showed the key (until it restarts). A student's label is derived from the seat; nothing else about a
student is known or kept. Without cookies (AppTest, a browser that refuses them) the role lasts the session.
See genlab/classroom.py for what each role may do.
"""
from __future__ import annotations

import hashlib
import secrets

import streamlit as st

from genlab.classroom import TEACHER, is_teacher_key, safe_name, teacher_key

ROLE_KEY = "genlab_role"
SEAT_KEY = "genlab_seat"  # the session's copy of its seat (the cookie may not have arrived yet)
SEAT_COOKIE = "genlab_seat"


@st.cache_resource(show_spinner=False)
def ensure_teacher_key() -> bool:
    """Once per server: read the teacher key, or make one and tell the terminal (genlab/classroom.py)."""
    return bool(teacher_key())


@st.cache_resource(show_spinner=False)
def teacher_seats() -> set[str]:
    """Seats (browsers) that showed the teacher key since the server started."""
    return set()


def _cookie_seat() -> str | None:
    try:
        seat = st.context.cookies.get(SEAT_COOKIE)
    except Exception:  # no browser request behind this session (a bare script run)
        return None
    return seat if seat and 16 <= len(seat) <= 64 else None


def seat() -> str:
    """This browser's seat: from its cookie, or a new one (which keep_seat() hands to the browser)."""
    if SEAT_KEY not in st.session_state:
        st.session_state[SEAT_KEY] = _cookie_seat() or secrets.token_urlsafe(16)
    return st.session_state[SEAT_KEY]


def claim_teacher_from_url() -> None:
    given = st.query_params.get("teacher")
    if given is None:
        return
    del st.query_params["teacher"]  # out of the address bar before anything is drawn
    if is_teacher_key(given):
        teacher_seats().add(seat())
        st.session_state[ROLE_KEY] = TEACHER
    else:
        st.session_state["genlab_wrong_key"] = True


def me() -> str:
    if ROLE_KEY not in st.session_state:
        mine = seat()
        st.session_state[ROLE_KEY] = TEACHER if mine in teacher_seats() else \
            f"student-{hashlib.sha256(mine.encode()).hexdigest()[:6]}"
    return st.session_state[ROLE_KEY]


def is_teacher() -> bool:
    return me() == TEACHER


def my_private_folder() -> str | None:
    """The private folder whose files this browser also lists (None for the teacher: theirs are shared)."""
    return None if is_teacher() else safe_name(me())


def owner_words(owner: str) -> str:
    """An owner as this browser should read it: 'you', 'the teacher' or 'student 3f2a9c'."""
    if owner == me():
        return "you"
    return "the teacher" if owner == TEACHER else owner.replace("-", " ")


_SEAT_JS = """
export default function (component) {
  const { data } = component;
  if (!document.cookie.split("; ").some(c => c.startsWith(data.name + "="))) {
    document.cookie = `${data.name}=${data.seat}; path=/; max-age=${data.max_age}; SameSite=Strict`;
  }
}
"""
_seat_component = st.components.v2.component("genlab_seat", html="<span></span>", js=_SEAT_JS)


def keep_seat() -> None:
    """Hand a browser without a seat cookie the session's seat (a year long), so a reload is the same seat."""
    if _cookie_seat() != seat():
        with st.sidebar:
            _seat_component(key="genlab_seat_cookie",
                            data={"name": SEAT_COOKIE, "seat": seat(), "max_age": 365 * 24 * 3600})


def role_badge() -> None:
    """One line in the sidebar: who this browser is (never the key)."""
    if st.session_state.pop("genlab_wrong_key", False):
        st.sidebar.error("That teacher key is not right; this browser stays a student.")
    if is_teacher():
        st.sidebar.caption("This browser: **the teacher** (may stop, share and delete anything, and set the "
                           "students' caps on the Train page).")
    else:
        st.sidebar.caption(f"This browser: **{me().replace('-', ' ')}**. Your runs and uploads are yours until the "
                           "teacher shares them.")
