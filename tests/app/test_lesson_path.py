"""AppTest of the lesson path: ?step=N opens a step, next and previous move through the 13, and every step's link
opens its page with the step's settings and no error (the tabs' selection is checked in Chromium,
tests/e2e/test_lesson_path_browser.py)."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from genlab import checkpoints
from genlab.checkpoints import list_checkpoints
from genlab.ui.lesson_path import STEPS

ROOT = Path(__file__).resolve().parents[2]
LESSON = "views/8_Lesson_path.py"
# st.tabs bound to the URL: AppTest cannot see which one is open
TAB_KEYS = {"tab", "pcnn_tab", "diff_tab", "gan_tab", "tr_tab"}


def open_lesson(step: int | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page(LESSON)
    if step is not None:
        at.query_params["step"] = str(step)
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_link_opens_a_step_and_next_and_previous_move_through_all_13():
    at = open_lesson(step=12)
    assert at.header[0].value.startswith("12. Diffusion")
    at.button(key="step_next").click().run()
    assert at.number_input(key="step").value == 13 and at.query_params["step"] == "13"
    assert at.button(key="step_next").disabled
    for _ in range(12):
        at.button(key="step_previous").click().run()
    assert at.number_input(key="step").value == 1 and at.button(key="step_previous").disabled
    assert not at.exception
    assert len(STEPS) == 13


def test_each_step_asks_a_question_first_and_names_what_is_missing():
    for number, step in enumerate(STEPS, start=1):
        assert step.page or step.missing, f"step {number} opens nothing and says nothing is missing"
        if step.page:
            assert step.predict.endswith("?") and step.notice and step.open_what, number


def shown_model(at: AppTest) -> str:
    picker = next(box for box in at.selectbox if box.label == "Model")
    return picker.options[picker.index]


def widget_value(at: AppTest, key: str):
    for widgets in (at.radio, at.selectbox, at.slider, at.number_input):
        try:
            widget = widgets(key=key)
        except KeyError:
            continue
        return widget.options[widget.index] if hasattr(widget, "index") else widget.value
    raise AssertionError(f"no widget with key {key}")


@pytest.mark.parametrize("number", [n for n, s in enumerate(STEPS, start=1) if s.page])
def test_every_step_opens_its_page_with_its_settings_and_no_error(number):
    step = STEPS[number - 1]
    at = open_lesson(step=number)
    link = at.get("page_link")[0].proto
    assert link.page_script_hash  # the link points at a page of the navigation
    at.switch_page(step.page)
    for key, value in step.settings.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    for key, value in step.settings.items():
        if key == "model":
            [card] = [c.card for c in list_checkpoints(folders=[(checkpoints.SHIPPED_DIR, "shipped")])
                      if c.path.with_suffix("").as_posix().endswith("/" + value)]
            assert shown_model(at).startswith(card["title"]), (number, shown_model(at))
            picker = next(box for box in at.selectbox if box.label == "Model")
            other = (picker.index + 1) % len(picker.options)
            picker.set_value(other).run()  # picking another model afterwards is not undone by the address
            assert next(box for box in at.selectbox if box.label == "Model").index == other
            assert at.query_params["model"] == value
        elif key not in TAB_KEYS:
            assert str(widget_value(at, key)) == value, (number, key)

