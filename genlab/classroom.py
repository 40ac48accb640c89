"""Who may do what on a class's server: the teacher key, the caps on students' runs, and whose files are whose.

A teacher runs the server and holds a key, in the spirit of Jupyter's token; every browser without it is a
student. The key comes from GENLAB_TEACHER_KEY, else from the file GENLAB_TEACHER_KEY_FILE (default
`.genlab/teacher_key` in the repository), else it is generated once, written to that file (readable by its owner
only) and shown on the terminal that started the server, never in its log:

    key = teacher_key()                    # the key (generated and announced on first use)
    is_teacher_key(given)                  # compared in constant time

Files: checkpoints a student trains or uploads live in `<user folder>/private/<student>/`, listed for that student
only, until the teacher shares them (moves them to the shared user folder, listed for everyone). The teacher's own
files are shared at once. Nothing here knows Streamlit or a model.
"""
from __future__ import annotations

import hmac
import os
import secrets
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import genlab
from genlab.checkpoints import PRIVATE, user_checkpoint_dir

TEACHER = "teacher"  # the owner name of the teacher's runs and files; students are "student-<hex>"
TITLE_LIMIT = 80  # characters of a title or name someone typed that any page shows


@dataclass
class Caps:
    """What a student may start; the teacher changes them on the Train page while the server runs."""
    training: bool = True  # students may train at all (off for a lecture)
    minutes: float = 10.0  # the longest run a student may start
    parameters: int = 5_000_000  # the largest model (trainable weights) a student may train
    queued: int = 4  # students' runs waiting in the queue at once, all students together

    def check(self) -> None:
        if self.minutes <= 0 or self.parameters < 1 or self.queued < 0:
            raise ValueError("minutes and model size must be positive, and the queue share 0 or more")


# -- the teacher key ---------------------------------------------------------------------------------------
def key_file() -> Path:
    return Path(os.environ.get("GENLAB_TEACHER_KEY_FILE", genlab.ROOT / ".genlab" / "teacher_key"))


def teacher_key() -> str:
    """The teacher's key: from the environment, from the key file, or generated now (and announced)."""
    given = os.environ.get("GENLAB_TEACHER_KEY", "").strip()
    if given:
        return given
    path = key_file()
    try:
        kept = path.read_text().strip()
        if kept:
            return kept
    except OSError:
        pass
    key = secrets.token_urlsafe(12)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # readable by its owner only
    with os.fdopen(descriptor, "w") as out:
        out.write(key + "\n")
    announce(key, path)
    return key


def announce(key: str, path: Path) -> None:
    """Tell whoever started the server how to become the teacher: the key goes to the terminal itself (not to
    stdout or stderr, which are often a log file); the log only learns where the key is kept."""
    print(f"genlab: a teacher key was made and saved in {path} (readable by you only). Open the app once with "
          "?teacher=<that key> in the teacher's browser.", file=sys.stderr)
    try:
        with open("/dev/tty", "w") as terminal:
            terminal.write(f"genlab: teacher key {key}  (open http://localhost:8501/?teacher={key} once in the "
                           "teacher's browser; it disappears from the address bar)\n")
    except OSError:  # no terminal (a service, a test): the file is the only copy
        pass


def is_teacher_key(given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(given.strip().encode(), teacher_key().encode())


# -- whose files are whose ---------------------------------------------------------------------------------
def home_of(owner: str) -> Path:
    """Where an owner's new checkpoints go: the shared user folder for the teacher, a private one for a student."""
    root = user_checkpoint_dir()
    return root if owner == TEACHER else root / PRIVATE / safe_name(owner)


def owner_of(path: Path) -> str | None:
    """The student a private file belongs to; None for a shared (or shipped) file."""
    try:
        parts = Path(path).resolve().relative_to(user_checkpoint_dir().resolve()).parts
    except ValueError:
        return None
    return parts[1] if len(parts) > 2 and parts[0] == PRIVATE else None


def may_change(owner: str, path: Path) -> bool:
    """The teacher may change any user file; a student only their own private ones (never a shipped file)."""
    try:
        Path(path).resolve().relative_to(user_checkpoint_dir().resolve())
    except ValueError:
        return False  # shipped, or elsewhere: nobody deletes it from the app
    return owner == TEACHER or owner_of(path) == safe_name(owner)


def share(path: Path) -> Path:
    """Move a student's private file into the shared user folder (listed for everyone); returns the new path."""
    path = Path(path)
    owner = owner_of(path)
    if owner is None:
        return path
    private = user_checkpoint_dir().resolve() / PRIVATE / owner
    target = user_checkpoint_dir() / path.resolve().relative_to(private)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), str(target))
    return target


def user_files() -> list[tuple[Path, str | None]]:
    """Every checkpoint in the user folder, shared or private: (path, its student or None when shared)."""
    root = user_checkpoint_dir()
    return [(path, owner_of(path)) for path in sorted(root.rglob("*.safetensors"))] if root.is_dir() else []


def delete(owner: str, path: Path) -> None:
    """Delete a user checkpoint; ValueError (one sentence) when `owner` may not."""
    if not may_change(owner, path):
        raise ValueError("Only the teacher, or the student it belongs to, can delete that checkpoint.")
    Path(path).unlink(missing_ok=True)


def safe_name(owner: str) -> str:
    return "".join(ch for ch in owner if ch.isalnum() or ch in "-_")[:40] or "student"


# -- text someone typed ------------------------------------------------------------------------------------
MARKDOWN_SPECIALS = set("\\`*_{}[]()#+-.!|<>~$:&")


def inert(text, limit: int = TITLE_LIMIT) -> str:
    """A title or name someone typed, cut to `limit` characters and escaped, so that Markdown shows it as plain
    text (no bold, links, HTML, maths or colour directives)."""
    text = " ".join(str(text).split())  # no newlines: a title is one line
    if len(text) > limit:
        text = text[:limit - 1].rstrip() + "…"
    return "".join("\\" + ch if ch in MARKDOWN_SPECIALS else ch for ch in text)


def short(text, limit: int = TITLE_LIMIT) -> str:
    """A title cut to `limit` characters for places that show plain text anyway (select boxes, tables)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"
