"""The rhythm of an estate in Harbin: daily activity curves, daylight, weather, plates."""

from __future__ import annotations

import math
import random
from datetime import datetime
from functools import lru_cache

# Rates per hour of local time (index 0 = 00:00-01:00).
STAIRWELL_TRIGGERS = (0.3, 0.2, 0.1, 0.1, 0.2, 0.6, 2.0, 4.0, 3.0, 1.5, 1.2, 1.5,
                      2.0, 1.5, 1.2, 1.5, 2.5, 4.0, 6.0, 6.0, 5.0, 4.0, 2.0, 0.8)
EBIKE_ARRIVALS = (0.05, 0.04, 0.03, 0.03, 0.03, 0.03, 0.03, 0.04, 0.05, 0.05, 0.08, 0.10,
                  0.12, 0.08, 0.06, 0.08, 0.15, 0.30, 0.45, 0.50, 0.40, 0.30, 0.15, 0.08)
CAR_ARRIVALS = (0.03, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.03, 0.04, 0.04, 0.05, 0.05,
                0.05, 0.05, 0.05, 0.05, 0.08, 0.15, 0.25, 0.30, 0.30, 0.25, 0.12, 0.06)
GATE_ENTRIES = (2, 1, 1, 1, 2, 5, 10, 14, 10, 8, 8, 10,
                12, 10, 9, 10, 14, 28, 36, 26, 16, 10, 6, 3)
GATE_EXITS = (2, 1, 1, 1, 3, 8, 24, 38, 28, 12, 9, 10,
              11, 9, 8, 9, 12, 12, 10, 8, 6, 5, 4, 2)

# Harbin: monthly mean air temperature (°C) and sunrise / sunset (local hours).
MONTHLY_MEAN_C = (-18, -13, -4, 7, 15, 21, 23, 21, 15, 6, -5, -15)
SUNRISE_H = (7.25, 6.8, 6.0, 5.0, 4.25, 3.75, 4.0, 4.7, 5.35, 6.0, 6.75, 7.25)
SUNSET_H = (16.1, 16.8, 17.6, 18.35, 19.0, 19.4, 19.4, 18.75, 17.8, 16.9, 16.1, 15.85)
DAILY_SWING_C = 6.0

PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
VISITOR_PREFIXES = ("黑A", "黑A", "黑A", "黑B", "黑L", "吉A", "辽A")


def hour_of(now: datetime) -> float:
    return now.hour + now.minute / 60 + now.second / 3600


def rate_at(curve: tuple[float, ...], now: datetime) -> float:
    """The curve's value at `now`, interpolated between hours."""
    hour = hour_of(now)
    low = int(hour) % 24
    frac = hour - int(hour)
    return curve[low] * (1 - frac) + curve[(low + 1) % 24] * frac


def is_dark(now: datetime) -> bool:
    """Stairwell lights have a light sensor: they only switch on around and after dusk."""
    hour = hour_of(now)
    month = now.month - 1
    return hour < SUNRISE_H[month] + 0.5 or hour > SUNSET_H[month] - 0.5


def outdoor_temperature_c(now: datetime) -> float:
    swing = DAILY_SWING_C * math.cos((hour_of(now) - 14.0) / 24 * 2 * math.pi)
    return MONTHLY_MEAN_C[now.month - 1] + swing


def indoor_temperature_c(now: datetime) -> float:
    """Pipe shafts in heated buildings: never far below 14 °C, warmer in summer."""
    return 14.0 + max(0.0, outdoor_temperature_c(now) - 14.0) * 0.6


def poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    threshold, count, product = math.exp(-mean), 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def happens(rng: random.Random, rate_per_hour: float, dt_s: float) -> bool:
    """Whether at least one event of a Poisson process happens within `dt_s` seconds."""
    return rng.random() < 1 - math.exp(-rate_per_hour * dt_s / 3600)


def random_plate(rng: random.Random, prefix: str = "黑A") -> str:
    if rng.random() < 0.12:  # new-energy plates: D/F then five digits
        return prefix + rng.choice("DF") + "".join(rng.choices("0123456789", k=5))
    letters = rng.choice((0, 0, 1, 1, 2))
    chars = rng.choices(PLATE_LETTERS, k=letters) + rng.choices("0123456789", k=5 - letters)
    rng.shuffle(chars)
    return prefix + "".join(chars)


@lru_cache(maxsize=8)
def resident_plates(seed: int, count: int = 400) -> tuple[str, ...]:
    rng = random.Random(f"plates:{seed}")
    return tuple(random_plate(rng) for _ in range(count))


def any_plate(rng: random.Random, seed: int) -> str:
    """Mostly residents' cars, sometimes a visitor's."""
    if rng.random() < 0.8:
        return rng.choice(resident_plates(seed))
    return random_plate(rng, rng.choice(VISITOR_PREFIXES))
