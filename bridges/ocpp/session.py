"""One connected charge point: its OCPP 1.6J calls answered and republished per the contract."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.datatypes import IdTagInfo
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus

from bridges import contract
from bridges.contract import Publish
from bridges.ocpp.translate import meter_readings, status_values
from registry.queries import DeviceRef

log = logging.getLogger(__name__)
# The ocpp package logs every frame at INFO: its own logger, quiet unless asked (DEBUG).
WIRE_LOG = logging.getLogger("bridges.ocpp.wire")


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class ChargePointSession(ChargePoint):
    """The central system's side of one WebSocket. Every call the charger makes is answered
    as OCPP 1.6J requires, after its contract message is handed to `publish`."""

    def __init__(self, charge_point_id: str, connection: Any, *, device: DeviceRef,
                 publish: Publish, heartbeat_interval_s: int,
                 next_transaction_id: Callable[[], int]) -> None:
        super().__init__(charge_point_id, connection, logger=WIRE_LOG)
        self.device = device
        self._publish = publish
        self._heartbeat_interval_s = heartbeat_interval_s
        self._next_transaction_id = next_transaction_id

    @on(Action.boot_notification)
    async def on_boot_notification(self, charge_point_vendor: str, charge_point_model: str,
                                   **_: object) -> call_result.BootNotification:
        log.info("charge point %s booted (%s %s)", self.id, charge_point_vendor,
                 charge_point_model)
        await self._publish(contract.status(self.device, True))
        return call_result.BootNotification(current_time=now_iso(),
                                            interval=self._heartbeat_interval_s,
                                            status=RegistrationStatus.accepted)

    @on(Action.heartbeat)
    async def on_heartbeat(self) -> call_result.Heartbeat:
        await self._publish(contract.status(self.device, True))  # alive: silence clears
        return call_result.Heartbeat(current_time=now_iso())

    @on(Action.status_notification)
    async def on_status_notification(self, connector_id: int, error_code: str, status: str,
                                     timestamp: str | None = None,
                                     vendor_error_code: str | None = None,
                                     **_: object) -> call_result.StatusNotification:
        values = status_values(connector_id=connector_id, status=status, error_code=error_code,
                               timestamp=timestamp, vendor_error_code=vendor_error_code)
        await self._publish(contract.telemetry(self.device, values))
        return call_result.StatusNotification()

    @on(Action.meter_values)
    async def on_meter_values(self, connector_id: int, meter_value: list[Mapping[str, Any]],
                              **_: object) -> call_result.MeterValues:
        for values in meter_readings(connector_id, meter_value):
            await self._publish(contract.telemetry(self.device, values))
        return call_result.MeterValues()

    @on(Action.start_transaction)
    async def on_start_transaction(self, connector_id: int, id_tag: str, meter_start: int,
                                   timestamp: str, **_: object) -> call_result.StartTransaction:
        transaction_id = self._next_transaction_id()
        await self._session_event("session_start", transaction_id, meter_start, timestamp)
        log.info("charge point %s connector %s: transaction %s for %s", self.id, connector_id,
                 transaction_id, id_tag)
        return call_result.StartTransaction(
            transaction_id=transaction_id,
            id_tag_info=IdTagInfo(status=AuthorizationStatus.accepted))

    @on(Action.stop_transaction)
    async def on_stop_transaction(self, meter_stop: int, timestamp: str, transaction_id: int,
                                  **_: object) -> call_result.StopTransaction:
        await self._session_event("session_stop", transaction_id, meter_stop, timestamp)
        return call_result.StopTransaction(
            id_tag_info=IdTagInfo(status=AuthorizationStatus.accepted))

    async def _session_event(self, name: str, transaction_id: int, meter_wh: int,
                             timestamp: str) -> None:
        values = {"ts": timestamp, "session_id": str(transaction_id),
                  "energy_kwh": meter_wh / 1000}
        await self._publish(contract.event(self.device, name, values))
