"""The rule engine: per (device, rule) state, moved by readings, statuses and deadlines.

Synchronous and free of I/O, so it is fast on the message path and easy to test: callers
hand it a reading (or the current time) and get back the anomalies that caused.
Per message it visits only the rules of that device type that the message can affect;
a tick pops only deadlines that are due.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from core.clock import NS_PER_S, datetime_to_ns, ns_to_datetime
from core.topic import Channel
from core.vocabulary import Anomaly, AnomalyKind
from gateway.decode import StatusChange
from gateway.model import Reading
from gateway.rules.lateness import LatenessJudge
from gateway.rules.overrides import Override, OverrideError, Overrides, apply_override
from gateway.rules.spec import EMPTY_RULES, Rule, RuleSet, SilenceRule
from gateway.rules.state import RuleState, attached, reading_snapshot, status_snapshot
from gateway.rules.timers import DeadlineHeap
from gateway.rules.triggers import (
    Transition,
    due_ns,
    on_due,
    on_event,
    on_heard,
    on_offline,
    on_telemetry,
)
from registry.queries import DeviceRef

log = logging.getLogger(__name__)

StateKey = tuple[int, str]  # (device_pk, rule name)
LATENESS_INTERVALS = 3.0


class RuleEngine:
    """`lateness_intervals`: a reading delayed this many reporting intervals more than the
    device's usual delay is late: stored, but it neither starts nor ends a rule's run."""

    def __init__(self, rules_by_type: Mapping[str, RuleSet],
                 overrides: Overrides | None = None, *,
                 lateness_intervals: float = LATENESS_INTERVALS) -> None:
        self._declared = rules_by_type
        self._overrides: Overrides = overrides or {}
        self._effective: dict[tuple[str, str], RuleSet] = {}
        self._states: dict[StateKey, RuleState] = {}
        self._devices: dict[int, DeviceRef] = {}
        self._deadlines: DeadlineHeap[StateKey] = DeadlineHeap()
        self._dirty: set[StateKey] = set()
        self._ongoing: list[Anomaly] = []
        self._lateness_intervals = lateness_intervals
        self._lateness = LatenessJudge()

    # --- rules -------------------------------------------------------------------------

    def rules_for(self, estate_id: str, device_type: str) -> RuleSet:
        key = (estate_id, device_type)
        found = self._effective.get(key)
        if found is None:
            found = self._effective[key] = self._resolve(estate_id, device_type)
        return found

    def _resolve(self, estate_id: str, device_type: str) -> RuleSet:
        declared = self._declared.get(device_type, EMPTY_RULES)
        changes = self._overrides.get((estate_id, device_type))
        if not changes:
            return declared
        rules: list[Rule] = []
        for rule in declared.rules:
            override = changes.get(rule.meta.name)
            effective = rule if override is None else _applied(rule, override, estate_id)
            if effective is not None:
                rules.append(effective)
        return RuleSet(tuple(rules), declared.reporting_interval_s)

    def set_overrides(self, overrides: Overrides) -> None:
        """Use new per-estate overrides; deadlines of existing states follow the new numbers."""
        if overrides == self._overrides:
            return
        self._overrides = overrides
        self._effective.clear()
        for key in self._states:
            self._schedule(key)

    # --- inputs ------------------------------------------------------------------------

    def reading(self, device: DeviceRef, reading: Reading) -> list[Anomaly]:
        rules = self.rules_for(device.estate_id, device.device_type)
        if not rules:
            return []
        self._devices[device.pk] = device
        snapshot = reading_snapshot(reading)
        raised: list[Anomaly] = []
        # A late reading is history: stored, and it shows the device is there, nothing more.
        late = self._late(device, rules, reading)
        if reading.topic.channel is Channel.TELEMETRY and not late:
            for rule in rules.conditions:
                state = self._open(device, rule)
                transition = on_telemetry(rule, state, reading.values, device.kind, snapshot)
                self._close(device, rule, state, transition, raised)
        elif reading.event is not None and not late:
            for event_rule in rules.events.get(reading.event, ()):
                state = self._open(device, event_rule)
                transition = on_event(event_rule, state, snapshot)
                self._close(device, event_rule, state, transition, raised)
        for silence_rule in rules.silence:
            state = self._open(device, silence_rule)
            transition = on_heard(state, reading.received_ns, snapshot)
            self._close(device, silence_rule, state, transition, raised)
        return raised

    def status(self, device: DeviceRef, change: StatusChange) -> list[Anomaly]:
        rules = self.rules_for(device.estate_id, device.device_type)
        if not rules.silence:
            return []
        self._devices[device.pk] = device
        snapshot = status_snapshot(online=change.online, received_ns=change.received_ns)
        raised: list[Anomaly] = []
        for rule in rules.silence:
            state = self._open(device, rule)
            transition = (on_heard(state, change.received_ns, snapshot) if change.online
                          else on_offline(rule, state, snapshot))
            self._close(device, rule, state, transition, raised)
        return raised

    def due(self, now_ns: int, limit: int | None = None) -> list[Anomaly]:
        """Anomalies whose time has come with no message: `for_s` runs, silences, windows.

        `limit`: judge at most that many due deadlines (the rest stay due for the next call),
        so a caller can yield between slices when thousands fall due at once."""
        raised: list[Anomaly] = []
        for key in self._deadlines.pop_due(now_ns, limit):
            device = self._devices.get(key[0])
            if device is None or key not in self._states:
                continue
            rule = self.rules_for(device.estate_id, device.device_type).by_name.get(key[1])
            if rule is not None:
                state = self._open(device, rule)
                transition = on_due(rule, state, now_ns, device.reporting_interval_s)
                self._close(device, rule, state, transition, raised)
        return raised

    def watch(self, devices: Iterable[DeviceRef]) -> None:
        """Miss registered devices never heard from: a silence rule counts from when the
        device was registered, enabled or left commissioning, unless it was heard since."""
        for device in devices:
            if device.watched_since is None or device.commissioning or not device.enabled:
                continue
            since_ns = datetime_to_ns(device.watched_since)
            for rule in self.rules_for(device.estate_id, device.device_type).silence:
                if rule.intervals is not None:
                    self._watch(device, rule, since_ns)

    def _watch(self, device: DeviceRef, rule: SilenceRule, since_ns: int) -> None:
        key = (device.pk, rule.meta.name)
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = RuleState()
        elif state.active or (state.heard_ns or 0) >= since_ns:
            return
        self._devices[device.pk] = device
        state.heard_ns = since_ns  # read from the registry at every start: no need to save
        self._schedule(key)

    def take_ongoing(self) -> list[Anomaly]:
        """ONGOING notices since the last call: readings that still meet an active rule.

        Kept apart from what `reading` returns, because they change no rule's state; the
        work-order intake opens a new order from one when the last order was closed."""
        ongoing, self._ongoing = self._ongoing, []
        return ongoing

    def next_due_ns(self) -> int | None:
        return self._deadlines.next_due_ns()

    # --- persistence -------------------------------------------------------------------

    def restore(self, device: DeviceRef, rule_name: str, state: RuleState) -> None:
        """Take back a state saved before a restart, with its deadline."""
        key = (device.pk, rule_name)
        self._devices[device.pk] = device
        self._states[key] = state
        self._schedule(key)

    def take_changes(self) -> dict[StateKey, dict[str, Any] | None]:
        """States changed since the last call, as JSON (None: delete the saved row).

        Every change is saved at the next flush, "heard again" included: after a crash no
        deadline is off by more than one flush interval."""
        dirty, self._dirty = self._dirty, set()
        changes: dict[StateKey, dict[str, Any] | None] = {}
        for key in dirty:
            state = self._states.get(key)
            changes[key] = None if state is None else state.to_json()
        return changes

    def mark_changed(self, keys: set[StateKey]) -> None:
        """Keys whose save failed: save them again next time (with their newest state)."""
        self._dirty |= keys

    def state(self, device_pk: int, rule_name: str) -> RuleState | None:
        return self._states.get((device_pk, rule_name))

    @property
    def pending_deadlines(self) -> int:
        return len(self._deadlines)

    # --- internals ---------------------------------------------------------------------

    def _open(self, device: DeviceRef, rule: Rule) -> RuleState:
        return self._states.get((device.pk, rule.meta.name)) or RuleState()

    def _close(self, device: DeviceRef, rule: Rule, state: RuleState,
               transition: Transition | None, raised: list[Anomaly]) -> None:
        """Keep (or forget) the state after a step, mark it for saving, set its deadline."""
        key = (device.pk, rule.meta.name)
        if state.idle:
            if self._states.pop(key, None) is not None:
                self._dirty.add(key)
        else:
            self._states[key] = state
            self._dirty.add(key)
            due = due_ns(rule, state, device.reporting_interval_s)
            if due is not None:
                self._deadlines.schedule(key, due)
        if transition is not None:
            anomaly = _anomaly(device, rule, transition)
            ongoing = transition.kind is AnomalyKind.ONGOING
            (self._ongoing if ongoing else raised).append(anomaly)

    def _late(self, device: DeviceRef, rules: RuleSet, reading: Reading) -> bool:
        interval_s = device.reporting_interval_s or rules.reporting_interval_s
        if interval_s is None:
            return False
        lateness_ns = round(self._lateness_intervals * interval_s * NS_PER_S)
        return self._lateness.late(device.pk, time_ns=reading.time_ns,
                                   received_ns=reading.received_ns, lateness_ns=lateness_ns)

    def _schedule(self, key: StateKey) -> None:
        device = self._devices.get(key[0])
        state = self._states.get(key)
        if device is None or state is None:
            return
        rule = self.rules_for(device.estate_id, device.device_type).by_name.get(key[1])
        if rule is not None:
            due = due_ns(rule, state, device.reporting_interval_s)
            if due is not None:
                self._deadlines.schedule(key, due)


def _applied(rule: Rule, override: Override, estate_id: str) -> Rule | None:
    try:
        return apply_override(rule, override)
    except OverrideError as exc:
        log.warning("ignoring the override of rule %s in estate %s: %s", rule.meta.name,
                    estate_id, exc)
        return rule


def _anomaly(device: DeviceRef, rule: Rule, transition: Transition) -> Anomaly:
    meta = rule.meta
    return Anomaly(
        kind=transition.kind, estate_id=device.estate_id, device_pk=device.pk,
        device_id=device.device_id, device_type=device.device_type, rule=meta.name,
        at=ns_to_datetime(transition.at_ns), priority=meta.priority, team=meta.team,
        category=meta.category, title_en=meta.title_en, title_zh=meta.title_zh,
        readings=tuple(attached(reading) for reading in transition.readings),
        notify_residents=meta.notify_residents,
    )
