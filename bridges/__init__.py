"""Bridges: off-the-shelf hardware translated into the device contract at the edge.

`zigbee2mqtt` reads a Zigbee2MQTT coordinator's topics, `ocpp` is an OCPP 1.6J central
system for chargers; both republish what they hear as contract messages (`contract.py`)
under `estates/...`, so the gateway sees nothing but contract devices. Only the settings
are imported here: the composed settings import this package, so it stays light.
"""

from bridges.settings import BridgeSettings, OcppSettings, Zigbee2MqttSettings

__all__ = ["BridgeSettings", "OcppSettings", "Zigbee2MqttSettings"]
