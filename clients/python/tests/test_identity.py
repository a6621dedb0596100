"""The client UUID is made once and kept."""

import os
import tempfile
import unittest
import uuid
from pathlib import Path
from unittest import mock

from lts_client import load_client_uuid
from lts_client.identity import default_directory


class IdentityTests(unittest.TestCase):
    def setUp(self) -> None:
        self.directory = tempfile.TemporaryDirectory(prefix="lts-python-identity-")
        self.folder = Path(self.directory.name) / "state" / "lts-client"

    def tearDown(self) -> None:
        self.directory.cleanup()

    def test_made_once_then_kept(self) -> None:
        made = load_client_uuid(self.folder)
        self.assertEqual(str(uuid.UUID(made)), made)
        self.assertEqual(load_client_uuid(self.folder), made)
        self.assertEqual((self.folder / "client-uuid").stat().st_mode & 0o777, 0o600)
        self.assertEqual(self.folder.stat().st_mode & 0o777, 0o700)
        self.assertEqual(os.listdir(self.folder), ["client-uuid"])

    def test_a_file_without_a_uuid_is_refused(self) -> None:
        self.folder.mkdir(parents=True)
        (self.folder / "client-uuid").write_text("not a uuid\n")
        with self.assertRaises(ValueError):
            load_client_uuid(self.folder)

    def test_the_default_directory_follows_xdg_state_home(self) -> None:
        with mock.patch.dict(os.environ, {"XDG_STATE_HOME": "/var/state"}):
            self.assertEqual(default_directory(), Path("/var/state/lts-client"))
        with mock.patch.dict(os.environ, {"XDG_STATE_HOME": "", "HOME": "/home/u"}):
            self.assertEqual(default_directory(), Path("/home/u/.local/state/lts-client"))


if __name__ == "__main__":
    unittest.main()
