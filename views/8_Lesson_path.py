"""Lesson path: the course's 13 steps in order (genlab/ui/lesson_path.py). ?step=N opens step N, so a teacher can
link to it; the step's link opens its page with the tab and settings it needs."""
import streamlit as st

from genlab.ui.common import forget_models_from_urls
from genlab.ui.guide import explained
from genlab.ui.lesson_path import STEPS
from genlab.ui.pages import PAGES

st.title("Lesson path")
forget_models_from_urls()
st.write("The course in the order it is taught. Each step opens a page with the settings it needs. Ask the "
         "question first and let the class predict; then open the page and try it.")
st.caption("On a projector, add ?present=1 to the address: large type, the pages listed at the top, the sidebar "
           "folded away, no uploads or model cards, and each tab's explanation open. ?present=0 turns it off.")


def move(by: int) -> None:
    st.session_state.step = min(len(STEPS), max(1, st.session_state.step + by))


asked = st.query_params.get("step", "")
if asked.isdigit() and st.session_state.get("lesson_url_step") != asked:  # a link to a step (?step=N)
    st.session_state.step = min(len(STEPS), max(1, int(asked)))
elif "step" not in st.session_state and "lesson_step" in st.session_state:
    st.session_state.step = st.session_state.lesson_step  # back from a step's page (Back drops ?step=): stay
number = st.number_input("Step", 1, len(STEPS), key="step",
                         help="The step is in the address bar (?step=N): a link to it opens this step.")
st.session_state.lesson_step = number
if asked != str(number):
    st.query_params["step"] = str(number)  # the address names the step shown, for a link or a reload
st.session_state.lesson_url_step = str(number)
step = STEPS[number - 1]
st.header(f"{number}. {step.title}")
if step.predict:
    explained(f"**Predict, then try.** {step.predict}")
if step.page is not None:
    st.markdown(f"**Open.** {step.open_what}")
    title = next(page.title for page in PAGES if page.file == step.page)
    st.page_link(step.page, label=f"Open the {title} page with these settings", icon="👉",
                 query_params=step.settings or None)
if step.notice:
    explained(f"**What to notice.** {step.notice}")
if step.missing:
    st.info(step.missing)
previous, _, following = st.columns([1, 4, 1])
previous.button("← Previous", key="step_previous", on_click=move, args=(-1,), disabled=number == 1,
                width="stretch")
following.button("Next →", key="step_next", on_click=move, args=(1,), disabled=number == len(STEPS),
                 width="stretch")
with st.expander("All steps"):
    st.markdown("\n".join(f"{n}. {s.title}" + ("" if s.page else " (not in genlab yet)")
                           for n, s in enumerate(STEPS, start=1)))
