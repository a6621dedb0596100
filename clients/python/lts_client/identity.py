"""The client UUID a client presents, kept in a file so that the same
installation stays the same device across runs."""

import os
import re
import tempfile
import uuid
from pathlib import Path

FILE_NAME = "client-uuid"
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")


def default_directory() -> Path:
    """`$XDG_STATE_HOME/lts-client`, else `~/.local/state/lts-client`."""
    state = os.environ.get("XDG_STATE_HOME")
    if state:
        return Path(state) / "lts-client"
    return Path.home() / ".local" / "state" / "lts-client"


def load_client_uuid(directory: str | os.PathLike[str] | None = None) -> str:
    """The UUID in `directory` (default `default_directory()`), made and
    written (mode 0600, its directory 0700) on first use.

    Invariant: once written, the file's UUID is returned on every load, also
    when two processes make it at once.
    Raises ValueError when the file holds no UUID.
    """
    folder = Path(directory) if directory is not None else default_directory()
    path = folder / FILE_NAME
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        made = str(uuid.uuid4())
        # Written whole under a temporary name, then linked into place: a
        # reader never sees a partial file, and of two processes making one
        # at once, the first link wins and the other reads its UUID.
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{FILE_NAME}.")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(made + "\n")
                file.flush()
                os.fsync(file.fileno())
            os.link(temporary, path)
        except FileExistsError:
            return load_client_uuid(folder)
        finally:
            os.unlink(temporary)
        return made
    if not _UUID.fullmatch(text):
        raise ValueError(f"{path} holds no UUID; remove it to make a new client identity")
    return text
