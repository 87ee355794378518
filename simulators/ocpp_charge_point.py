"""A simulated OCPP 1.6J charge point (the `ocpp` package's client side) over a real WebSocket.

The charger flavour of the simulator: it talks to EstateOps's central system exactly as a
charger off the shelf does (BootNotification, Heartbeat, StatusNotification, MeterValues,
Start/StopTransaction), so tests and the demo exercise the same translation a real one does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import websockets
from ocpp.v16 import ChargePoint, call
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus, Measurand, UnitOfMeasure
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

# The ocpp package logs every frame at INFO; a simulated charger's frames are not news.
WIRE_LOG = logging.getLogger("simulators.ocpp.wire")
WIRE_LOG.setLevel(logging.WARNING)


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class SimChargePoint(ChargePoint):
    """Calls a charge point makes; each returns the central system's answer."""

    async def boot(self, vendor: str = "EstateOps", model: str = "SimCharger-7kW") -> object:
        return await self.call(call.BootNotification(charge_point_model=model,
                                                     charge_point_vendor=vendor))

    async def heartbeat(self) -> object:
        return await self.call(call.Heartbeat())

    async def status(self, connector_id: int, status: ChargePointStatus,
                     error_code: ChargePointErrorCode = ChargePointErrorCode.no_error) -> object:
        return await self.call(call.StatusNotification(
            connector_id=connector_id, error_code=error_code, status=status,
            timestamp=now_iso()))

    async def meter(self, connector_id: int, *, energy_wh: float, power_w: float,
                    temperature_c: float, transaction_id: int | None = None) -> object:
        samples = [
            {"value": f"{energy_wh:.0f}", "measurand": Measurand.energy_active_import_register,
             "unit": UnitOfMeasure.wh},
            {"value": f"{power_w:.0f}", "measurand": Measurand.power_active_import,
             "unit": UnitOfMeasure.w},
            {"value": f"{temperature_c:.1f}", "measurand": Measurand.temperature,
             "unit": UnitOfMeasure.celsius},
        ]
        return await self.call(call.MeterValues(
            connector_id=connector_id, transaction_id=transaction_id,
            meter_value=[{"timestamp": now_iso(), "sampledValue": samples}]))

    async def start_transaction(self, connector_id: int, id_tag: str, meter_start: int) -> int:
        result = await self.call(call.StartTransaction(
            connector_id=connector_id, id_tag=id_tag, meter_start=meter_start,
            timestamp=now_iso()))
        transaction_id: int = result.transaction_id
        return transaction_id

    async def stop_transaction(self, transaction_id: int, meter_stop: int) -> object:
        return await self.call(call.StopTransaction(
            meter_stop=meter_stop, timestamp=now_iso(), transaction_id=transaction_id))


@contextlib.asynccontextmanager
async def connected_charge_point(url: str, charge_point_id: str,
                                 response_timeout_s: float = 10) -> AsyncIterator[SimChargePoint]:
    """A charge point connected to the central system at `url` (ws://host:port/ocpp) until
    the context ends, when it closes its WebSocket."""
    async with websockets.connect(f"{url}/{charge_point_id}",
                                  subprotocols=[Subprotocol("ocpp1.6")],
                                  open_timeout=10) as connection:
        charge_point = SimChargePoint(charge_point_id, connection,
                                      response_timeout=response_timeout_s, logger=WIRE_LOG)
        listener = asyncio.create_task(_listen(charge_point, connection),
                                       name=f"ocpp-{charge_point_id}")
        try:
            yield charge_point
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener


async def _listen(charge_point: SimChargePoint, connection: ClientConnection) -> None:
    with contextlib.suppress(websockets.ConnectionClosed):
        await charge_point.start()
    await connection.close()
