"""genlab/classroom.py: the teacher key, whose files are whose, and text someone typed shown inertly."""
import os
import stat

import pytest
import torch

from genlab import classroom
from genlab.checkpoints import list_checkpoints, save_checkpoint
from genlab.classroom import TEACHER, delete, home_of, inert, may_change, owner_of, share, short, teacher_key
from genlab.models.vae import VAE, VAEConfig


@pytest.fixture
def no_key_in_env(monkeypatch, tmp_path):
    monkeypatch.delenv("GENLAB_TEACHER_KEY", raising=False)
    monkeypatch.setenv("GENLAB_TEACHER_KEY_FILE", str(tmp_path / "keys" / "teacher_key"))
    return tmp_path / "keys" / "teacher_key"


def test_the_key_comes_from_the_environment_first(monkeypatch):
    monkeypatch.setenv("GENLAB_TEACHER_KEY", " s3cret ")
    assert teacher_key() == "s3cret"
    assert classroom.is_teacher_key("s3cret") and not classroom.is_teacher_key("s3cre") \
        and not classroom.is_teacher_key("") and not classroom.is_teacher_key(None)


def test_a_made_key_is_kept_in_a_private_file_and_never_printed(no_key_in_env, capsys):
    key = teacher_key()
    assert len(key) >= 16 and no_key_in_env.read_text().strip() == key
    assert stat.S_IMODE(os.stat(no_key_in_env).st_mode) == 0o600  # readable by its owner only
    printed = capsys.readouterr()
    assert key not in printed.out + printed.err and str(no_key_in_env) in printed.err  # where, never what
    assert teacher_key() == key  # the file is read again, not a new key made


def test_a_key_file_written_by_the_teacher_is_used(no_key_in_env):
    no_key_in_env.parent.mkdir(parents=True)
    no_key_in_env.write_text("chosen-by-me\n")
    assert teacher_key() == "chosen-by-me"


def save_tiny(path, title="tiny"):
    torch.manual_seed(0)
    return save_checkpoint(path, VAE(VAEConfig.tiny()), "vae", {"dataset": "digits", "title": title})


def test_a_students_files_are_theirs_until_shared(user_checkpoint_dir):
    mine = save_tiny(home_of("student-a") / "digits" / "m.safetensors", "mine")
    theirs = save_tiny(home_of("student-b") / "digits" / "t.safetensors", "theirs")
    teachers = save_tiny(home_of(TEACHER) / "digits" / "x.safetensors", "the teacher's")
    assert owner_of(mine) == "student-a" and owner_of(teachers) is None
    titles = lambda private: sorted(c.card["title"] for c in list_checkpoints(kind="vae", private=private)  # noqa: E731
                                    if c.source == "yours")
    assert titles(None) == ["the teacher's"]
    assert titles("student-a") == ["mine", "the teacher's"]
    assert may_change("student-a", mine) and not may_change("student-a", theirs)
    assert not may_change("student-a", teachers) and may_change(TEACHER, theirs)
    with pytest.raises(ValueError, match="Only the teacher"):
        delete("student-a", theirs)
    shared = share(theirs)
    assert not theirs.exists() and owner_of(shared) is None
    assert titles("student-a") == ["mine", "the teacher's", "theirs"]
    delete(TEACHER, shared)
    assert not shared.exists()


def test_a_shipped_checkpoint_cannot_be_deleted_by_anyone(tmp_path):
    shipped = save_tiny(tmp_path / "shipped" / "x.safetensors")
    assert not may_change(TEACHER, shipped)
    with pytest.raises(ValueError):
        delete(TEACHER, shipped)
    assert shipped.exists()


def test_typed_titles_are_cut_short_and_shown_as_plain_text():
    hostile = "**bold** <script>alert(1)</script> [link](http://x.example) $x^2$ :red[red]\n# heading " + "y" * 2000
    shown = inert(hostile)
    unescaped = shown.replace("\\", "")
    assert len(unescaped) == 80 and unescaped.endswith("…") and "\n" not in shown
    i = 0
    while i < len(shown):  # every special character is escaped, so Markdown prints it as it is
        assert shown[i] not in classroom.MARKDOWN_SPECIALS or shown[i] == "\\", shown[i:]
        i += 2 if shown[i] == "\\" else 1
    assert unescaped.startswith("**bold** <script>alert(1)</script>")
    assert short("a" * 500) == "a" * 79 + "…" and short("plain") == "plain"
