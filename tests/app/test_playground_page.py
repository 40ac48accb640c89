"""AppTest of the GAN playground: it renders, plays, pauses, steps, and shows its three views."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[2] / "views" / "6_GAN_playground.py")


def step_counter(at: AppTest) -> int:
    return int(next(m for m in at.metric if m.label == "Step").value)


@pytest.fixture
def at() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.run()
    assert not at.exception
    at.slider(key="gp_speed").set_value(4).run()  # a few steps per frame keeps the test quick
    return at


def test_renders_with_its_controls(at):
    assert at.toggle(key="gp_play").value is False  # each lookup by key fails if the widget is missing
    assert at.slider(key="gp_speed").value == 4 and at.button(key="gp_one_step")
    assert at.segmented_control(key="gp_which").value == "Both" and at.checkbox(key="gp_arrows").value is False
    assert at.selectbox(key="gp_dataset").value == "ring" and at.radio(key="gp_loss").value == "non-saturating"
    assert step_counter(at) == 0
    assert {m.label for m in at.metric} == {"Step", "D loss", "G loss", "Modes covered"}
    assert len(at.image) == 1 and [c.key for c in at.get("plotly_chart")] == ["gp_history"]  # plane, curves


def test_play_advances_the_step_counter_and_pause_stops_it(at):
    # Each frame draws the current state, then trains 4 steps for the next frame.
    at.toggle(key="gp_play").set_value(True).run()
    at.run()  # another frame (in the browser, the fragment's timer does this several times a second)
    assert not at.exception
    assert step_counter(at) == 4 and at.session_state["gp_gan"].step == 8
    at.run()
    assert step_counter(at) == 8
    at.toggle(key="gp_play").set_value(False).run()
    assert step_counter(at) == 12
    at.run()
    assert step_counter(at) == 12 and at.session_state["gp_gan"].step == 12


def test_one_step_and_training_one_network(at):
    at.button(key="gp_one_step").click().run()
    assert step_counter(at) == 1
    at.segmented_control(key="gp_which").set_value("D only").run()
    at.button(key="gp_one_step").click().run()
    assert step_counter(at) == 2
    at.checkbox(key="gp_arrows").check().run()
    assert not at.exception


def test_changing_a_setting_starts_a_new_run(at):
    at.button(key="gp_one_step").click().run()
    assert step_counter(at) == 1
    at.radio(key="gp_loss").set_value("minimax").run()
    assert step_counter(at) == 0 and not at.exception


def test_minimax_versus_non_saturating_view_trains_both(at):
    at.radio(key="gp_view").set_value("Minimax vs non-saturating").run()
    at.toggle(key="gp_play").set_value(True).run()
    assert not at.exception
    twins = at.session_state["gp_twins"]
    assert sorted(caption for image in at.image for caption in image.captions) == [
        "minimax: step 0", "non-saturating: step 0"]  # drawn first, then trained for the next frame
    assert {name: twin.step for name, twin in twins.items()} == {"non-saturating": 4, "minimax": 4}
    assert {twin.config.optimizer for twin in twins.values()} == {"sgd"}  # the default: saturation shows
    at.radio(key="gp_cmp_optimizer").set_value("adam").run()
    assert {twin.config.optimizer for twin in at.session_state["gp_twins"].values()} == {"adam"}


def test_explicit_density_view_shows_a_likelihood(at):
    at.radio(key="gp_view").set_value("Explicit vs implicit density").run()
    assert not at.exception
    assert any("log p(x)" in m.value and "implicit" in m.value for m in at.markdown)


@pytest.mark.parametrize("dataset", ["moons", "grid"])
def test_other_datasets_render(at, dataset):
    at.selectbox(key="gp_dataset").set_value(dataset).run()
    at.button(key="gp_one_step").click().run()
    assert not at.exception and step_counter(at) == 1


def test_draw_your_own_asks_for_points_then_trains_on_them(at):
    at.selectbox(key="gp_dataset").set_value("drawn").run()
    assert not at.exception
    assert any("at least one point" in i.value for i in at.info)
    at.session_state["gp_drawn"] = [(0.0, 0.0), (1.0, 1.0)]
    at.run()
    at.button(key="gp_one_step").click().run()
    assert not at.exception and step_counter(at) == 1
    assert at.session_state["gp_gan"].data.name == "drawn"


def test_slow_motion_walks_one_step_in_four_annotated_sub_steps_beside_the_optimal_d(at):
    at.radio(key="gp_view").set_value("Slow motion").run()
    assert not at.exception
    assert at.info[0].value.startswith("Press Next sub-step")
    told = []
    for _ in range(4):
        at.button(key="gp_slow_next").click().run()
        assert not at.exception
        told.append(at.info[0].value.split(":")[0])
    assert told == ["Draw a batch", "Update D", "G's gradient", "Update G"]
    assert at.session_state["gp_gan"].step == 1
    assert [i.caption for image in at.image for i in image.proto.imgs] == [
        "D(x) now, and this step's batch", "The optimal D* = p_data / (p_data + p_g) for the current G"]
    [jsd] = [m for m in at.metric if m.label.startswith("Jensen-Shannon")]
    assert 0 <= float(jsd.value.split()[0]) <= 1
