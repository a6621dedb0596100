"""The wait between rounds: exponential, capped, jittered in the upper half."""

import random
import unittest

from lts_client import RetrySchedule


class RetryScheduleTests(unittest.TestCase):
    def test_delays_double_from_100_ms_to_2_s_with_jitter_in_the_upper_half(self) -> None:
        schedule = RetrySchedule()
        generator = random.Random(7)
        for failed_rounds, ceiling in [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1600), (6, 2000), (40, 2000)]:
            delays = {schedule.delay_ms(failed_rounds, generator) for _ in range(300)}
            with self.subTest(failed_rounds=failed_rounds):
                self.assertGreaterEqual(min(delays), ceiling // 2)
                self.assertLessEqual(max(delays), ceiling)
                self.assertGreater(len(delays), 10, "the delays are jittered")

    def test_the_generator_alone_decides_the_jitter(self) -> None:
        schedule = RetrySchedule()
        first = [schedule.delay_ms(rounds, random.Random(3)) for rounds in range(1, 9)]
        again = [schedule.delay_ms(rounds, random.Random(3)) for rounds in range(1, 9)]
        self.assertEqual(first, again)

    def test_bounds_are_checked(self) -> None:
        for base_ms, max_ms in [(0, 10), (20, 10)]:
            with self.subTest(base_ms=base_ms, max_ms=max_ms), self.assertRaises(ValueError):
                RetrySchedule(base_ms, max_ms)


if __name__ == "__main__":
    unittest.main()
