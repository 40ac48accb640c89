"""A short class of protocol students (benchmarks/protocol_classroom.py: 3 students speaking Streamlit's websocket
protocol for one minute, while the teacher's training run goes on): every action is answered, no student sees an
error or a broken picture, the server logs no traceback. Times are printed, never asserted."""
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))


def test_three_protocol_students_and_a_training_job_are_all_answered():
    pytest.importorskip("websockets")
    protocol_classroom = pytest.importorskip("protocol_classroom")
    # in a thread of its own: a browser test before it may have left an event loop running in this one
    with ThreadPoolExecutor(max_workers=1) as pool:
        [level] = pool.submit(protocol_classroom.run, [3], minutes=1.0, think=(1, 3), arrive_s=5).result()
    print(protocol_classroom.table_rows(3, level.record.times))
    assert level.record.errors == []  # no exception or error box on any student's page
    assert level.record.timeouts == []  # every action got its image within the minute allowed
    assert level.record.image_failures == []  # every picture still on a page was served (no broken image)
    assert level.tracebacks == 0
    done = set(level.record.times)
    assert {"VAE: release a drag on the latent pad", "VAE: move a latent slider", "GAN: complete an equation",
            "PixelCNN: 4 completions", "Compare: open the page", "Train: open the page and see the run"} <= done, done
    # (the teacher's training run is checked to have started: protocol_classroom.start_training raises otherwise)
