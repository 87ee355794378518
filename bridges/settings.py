"""Settings of the bridges (ESTATEOPS_BRIDGES__ZIGBEE2MQTT__..., ESTATEOPS_BRIDGES__OCPP__...)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field


class Zigbee2MqttSettings(BaseModel):
    base_topic: str = Field(default="zigbee2mqtt",
                            description="Zigbee2MQTT's mqtt.base_topic on the same broker")
    client_id: str = "estateops-zigbee2mqtt"
    registry_refresh_s: Annotated[float, Field(gt=0)] = 30.0
    offline_check_s: Annotated[float, Field(gt=0)] = 60.0


class OcppSettings(BaseModel):
    host: str = "0.0.0.0"  # chargers connect from the estate's network
    port: Annotated[int, Field(ge=0, le=65535)] = 9000
    heartbeat_interval_s: Annotated[int, Field(gt=0)] = 60
    client_id: str = "estateops-ocpp"
    registry_refresh_s: Annotated[float, Field(gt=0)] = 30.0


class BridgeSettings(BaseModel):
    zigbee2mqtt: Zigbee2MqttSettings = Field(default_factory=Zigbee2MqttSettings)
    ocpp: OcppSettings = Field(default_factory=OcppSettings)
