"""A class in Chromium: the teacher's browser shows the key once and keeps its role through a reload; a student's
browser watches the teacher's run but gets no Stop button; the key is in no page and not in the server's log."""
import os
import re

import pytest
from conftest import SERVER_LOGS
from e2e_helpers import current_step, wait_for_app

pytestmark = pytest.mark.e2e
KEY = os.environ["GENLAB_TEACHER_KEY"]


def open_train(page, url: str) -> None:
    page.goto(url)
    page.locator(".st-key-train_start").wait_for(timeout=180_000)
    wait_for_app(page)


def test_the_teacher_keeps_control_and_a_student_cannot_stop_the_teachers_run(app_server, page, browser):
    open_train(page, f"{app_server}/Train?teacher={KEY}")
    page.get_by_text("This browser: the teacher").wait_for(timeout=60_000)
    assert "teacher=" not in page.url and KEY not in page.content()
    page.reload()  # the seat cookie brings the role back: the key is not typed again in front of the class
    page.locator(".st-key-train_start").wait_for(timeout=120_000)
    wait_for_app(page)
    page.get_by_text("This browser: the teacher").wait_for(timeout=60_000)

    page.locator(".st-key-train_preset").get_by_text("Custom").click()
    wait_for_app(page)
    minutes = page.locator(".st-key-train_minutes input")
    minutes.fill("30")  # longer than a student may; the test stops it
    minutes.press("Enter")
    wait_for_app(page)
    page.locator(".st-key-train_start button").click()
    page.locator(".st-key-train_stop").wait_for(timeout=120_000)  # the teacher's own run: a Stop button

    student = browser.new_context().new_page()
    student.set_default_navigation_timeout(180_000)
    try:
        open_train(student, f"{app_server}/Train")
        student.get_by_text(re.compile(r"This browser: student [0-9a-f]{6}")).wait_for(timeout=60_000)
        student.locator("h3", has_text=re.compile(r"^Job \d+: .*\(the teacher\)")).wait_for(timeout=120_000)
        current_step(student, above=0)  # it is training, watched (a run stopped before its first step saves nothing)
        assert student.locator(".st-key-train_stop").count() == 0
        assert student.locator(".st-key-teacher_caps, .st-key-teacher_clear_queue").count() == 0
        assert KEY not in student.content()
    finally:
        student.context.close()

    page.locator(".st-key-train_stop").get_by_role("button", name="Stop").first.click()
    page.get_by_text("The run was stopped after").wait_for(timeout=240_000)
    assert KEY not in SERVER_LOGS[app_server].read_text()
