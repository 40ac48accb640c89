"""The teacher panel (on the Train page, for the teacher's browser only): the students' caps, every run and every
uploaded or trained file on the server, whose it is and how large, with stop, share and delete.

Every action is checked again below the page (genlab/training/jobs.py, genlab/classroom.py): a student who forged
the same request would get a refusal, not the action.
"""
from __future__ import annotations

import streamlit as st

from genlab.checkpoints import CheckpointError, read_card
from genlab.classroom import Caps, delete, share, short, user_files
from genlab.data import DATASETS
from genlab.training.jobs import ACTIVE_STATES, JobError, JobManager
from genlab.ui.jobs import STATE_WORDS
from genlab.ui.roles import me, owner_words
from genlab.user_data import share_upload


def teacher_panel(manager: JobManager) -> None:
    with st.expander("Teacher panel: the students' caps, every run and every upload on this server",
                     expanded=False):
        caps_form(manager)
        runs_table(manager)
        files_table()
        datasets_table()


def caps_form(manager: JobManager) -> None:
    caps = manager.caps
    with st.form("teacher_caps"):
        st.markdown("**What students may start** (your own runs have no caps)")
        training = st.toggle("Students may train", caps.training, key="teacher_training",
                             help="Off: students can watch runs but not start one, for example during a lecture.")
        left, middle, right = st.columns(3)
        minutes = left.number_input("Longest run (minutes)", 0.5, 240.0, float(caps.minutes), 0.5,
                                    key="teacher_minutes", help="The Start button refuses longer student runs.")
        weights = middle.number_input("Largest model (weights)", 1_000, 200_000_000, int(caps.parameters), 100_000,
                                      key="teacher_weights", help="Trainable weights of the model a student asks for.")
        queued = right.number_input("Students' runs waiting at once", 0, 8, int(caps.queued), 1,
                                    key="teacher_queued", help="So students cannot fill the queue your runs wait in.")
        if st.form_submit_button("Apply"):
            manager.set_caps(Caps(training, float(minutes), int(weights), int(queued)), by=me())
            st.success("Applied: students' new runs are checked against these caps.")


def runs_table(manager: JobManager) -> None:
    st.markdown("**Runs**")
    views = [job.view() for job in manager.jobs()]
    if any(v.state == "queued" for v in views) and st.button("Clear the queue", key="teacher_clear_queue",
                                                              help="Cancels every run that is waiting to start."):
        st.success(f"Cancelled {manager.clear_queue(by=me())} waiting run(s).")
        views = [job.view() for job in manager.jobs()]
    if not views:
        st.caption("No run yet.")
    for view in views:
        text, button = st.columns([5, 1])
        text.text(f"Job {view.id} · {owner_words(view.owner)} · {STATE_WORDS.get(view.state, view.state)} · "
                  f"step {view.step:,} · {short(view.title, 60)}")
        if view.state in ACTIVE_STATES and view.state != "stopping" and \
                button.button("Stop", key=f"teacher_stop_{view.id}"):
            try:
                manager.stop(view.id, by=me())
            except JobError as e:
                st.error(str(e))


def files_table() -> None:
    st.markdown("**Checkpoints trained or uploaded here** (shipped ones are not listed: nobody deletes them)")
    files = user_files()
    if not files:
        st.caption("None yet.")
    for index, (path, student) in enumerate(files):
        try:
            title = read_card(path).get("title", path.stem)
        except CheckpointError:
            title = f"{path.name} (unreadable)"
        text, share_box, delete_box = st.columns([5, 1, 1])
        whose = f"{owner_words(student)}, private" if student else "shared with the class"
        text.text(f"{short(title, 60)} · {whose} · {path.stat().st_size / 1e6:.1f} MB")
        if student and share_box.button("Share", key=f"teacher_share_{index}",
                                        help="List it on every student's pages."):
            share(path)
            st.rerun()
        if delete_box.button("Delete", key=f"teacher_delete_{index}", help="Removes the file from this server."):
            delete(me(), path)
            st.rerun()


def datasets_table() -> None:
    uploads = {name: spec for name, spec in DATASETS.items() if spec.owner is not None}
    if not uploads:
        return
    st.markdown("**Images students uploaded** (until the server restarts)")
    for name, spec in uploads.items():
        text, button = st.columns([5, 1])
        text.text(f"{short(spec.title, 60)} · {owner_words(spec.owner)}, private · {spec.description[:60]}")
        if button.button("Share", key=f"teacher_share_data_{name}", help="List these images for every student."):
            share_upload(name)
            st.rerun()
