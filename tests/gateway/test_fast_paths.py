"""The fast paths give exactly the old answers: the plain-value check of a payload model
returns what pydantic returns (and leaves every rejection to it), and orjson's object is
json's wherever orjson is used."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device_profiles import load_profiles
from gateway.decode import _fast_object, _load_object, _utf8
from gateway.validation import PayloadModel, Rejected, models_for

PROFILES = load_profiles()
MODELS = [(f"{profile.device_type}:{channel}", model)
          for profile in (PROFILES.get(name) for name in PROFILES.device_types)
          if profile is not None
          for channel, model in [("telemetry", models_for(profile).telemetry),
                                 *models_for(profile).events.items()]]

VALUES = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 100, 101, 255, 256, 2**63 - 1, 2**63, -(2**63), 15, 14]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1.0, 100.0, 100.5, 14.9, -60.5, 1e300]),
    st.text(max_size=300), st.sampled_from(["on", "off", "open", "closed", "", "é", "\ud800"]),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(),
                                                         max_size=2),
)


def answer(model: PayloadModel, data: dict[str, Any], *, plain: bool) -> object:
    try:
        return model.validate(data) if plain else model._validated(data)
    except Rejected as rejection:
        return ("rejected", rejection.reason, rejection.detail)


def same(left: object, right: object) -> bool:
    # NaN is never equal to itself; repr keeps 0.0 and -0.0 apart.
    return repr(left) == repr(right)


@pytest.mark.parametrize(("name", "model"), MODELS, ids=[name for name, _ in MODELS])
@settings(max_examples=150, deadline=None, database=None)
@given(data=st.data())
def test_the_plain_check_answers_as_the_model(name: str, model: PayloadModel,
                                              data: st.DataObject) -> None:
    keys = sorted({key for check in model.checks for key in check.keys}
                  | {"extra_a", "f_leak", "Battery"})
    payload = data.draw(st.dictionaries(st.sampled_from(keys), VALUES, max_size=len(keys)))
    assert same(answer(model, payload, plain=True), answer(model, payload, plain=False)), name


@settings(max_examples=400, deadline=None, database=None)
@given(st.one_of(
    st.binary(max_size=200),
    st.recursive(VALUES, lambda inner: st.dictionaries(st.text(max_size=5), inner, max_size=4)
                 | st.lists(inner, max_size=3), max_leaves=12).map(
        lambda value: json.dumps(value, allow_nan=True).encode()),
))
def test_orjson_is_used_only_where_it_agrees_with_json(payload: bytes) -> None:
    fast = _fast_object(payload)
    if fast is None:
        return
    assert same(fast, _load_object(_utf8(payload)))


def test_the_plain_check_is_taken_for_an_ordinary_reading() -> None:
    leak = models_for(PROFILES.get("leak_sensor")).telemetry  # type: ignore[arg-type]
    values = leak._plain_values({"leak": False, "battery": 80, "rssi": -61.5})
    assert values is not None
    assert repr(values) == repr({"leak": False, "battery": 80.0, "rssi": -61.5})
