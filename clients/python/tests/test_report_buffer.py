"""The offline report buffer: durable, bounded in count and age, each request ID once."""

import tempfile
import unittest
from pathlib import Path

from lts_client import BufferedReport, BufferFull, ReportBuffer


def report(number: int, at: int = 1_000) -> BufferedReport:
    return BufferedReport(f"request-{number}", number, None if number % 2 else f"grant-{number}", at)


class ReportBufferTests(unittest.TestCase):
    def setUp(self) -> None:
        self.directory = tempfile.TemporaryDirectory(prefix="lts-python-buffer-")
        self.path = Path(self.directory.name) / "sub" / "reports.jsonl"

    def tearDown(self) -> None:
        self.directory.cleanup()

    def test_reports_survive_a_reload_in_order(self) -> None:
        buffer = ReportBuffer(self.path)
        for number in range(1, 4):
            buffer.append(report(number))
        self.assertEqual(ReportBuffer(self.path).pending, [report(1), report(2), report(3)])
        self.assertEqual(self.path.stat().st_mode & 0o777, 0o600)

    def test_a_full_buffer_refuses_and_keeps_what_it_has(self) -> None:
        buffer = ReportBuffer(self.path, max_entries=2)
        buffer.append(report(1))
        buffer.append(report(2))
        before = self.path.read_bytes()
        with self.assertRaises(BufferFull):
            buffer.append(report(3))
        self.assertEqual(len(buffer), 2)
        self.assertEqual(self.path.read_bytes(), before)

    def test_a_request_id_is_kept_once(self) -> None:
        buffer = ReportBuffer(self.path)
        buffer.append(report(1))
        with self.assertRaises(ValueError):
            buffer.append(report(1))
        self.assertEqual(len(ReportBuffer(self.path)), 1)

    def test_old_reports_are_dropped_and_counted_never_delivered(self) -> None:
        buffer = ReportBuffer(self.path, max_age_seconds=100)
        buffer.append(report(1, at=1_000))
        buffer.append(report(2, at=1_050))
        self.assertEqual(buffer.deliverable(now=1_120), [report(2, at=1_050)])
        self.assertEqual(buffer.expired_total, 1)
        self.assertEqual(ReportBuffer(self.path).pending, [report(2, at=1_050)])

    def test_removed_reports_leave_the_file(self) -> None:
        buffer = ReportBuffer(self.path)
        for number in range(1, 4):
            buffer.append(report(number))
        buffer.remove({"request-1", "request-3"})
        self.assertEqual(ReportBuffer(self.path).pending, [report(2)])

    def test_a_line_that_is_no_report_is_refused_at_load(self) -> None:
        self.path.parent.mkdir(parents=True)
        for line in ['{"requestId":"r","scans":0,"at":1}', '{"requestId":"r","scans":1}', "not json",
                     '{"requestId":"r","scans":1,"at":1,"other":2}']:
            self.path.write_text(line + "\n")
            with self.subTest(line), self.assertRaises(ValueError):
                ReportBuffer(self.path)


if __name__ == "__main__":
    unittest.main()
