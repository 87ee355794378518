"""Bridges: off-the-shelf hardware translated into the device contract at the edge.

`zigbee2mqtt` reads a Zigbee2MQTT coordinator's topics, `ocpp` is an OCPP 1.6J central
system for chargers; both republish what they hear as contract messages under
`estates/...`, so the gateway sees nothing but contract devices.
"""

from bridges.contract import ContractMessage
from bridges.settings import BridgeSettings, OcppSettings, Zigbee2MqttSettings

__all__ = ["BridgeSettings", "ContractMessage", "OcppSettings", "Zigbee2MqttSettings"]
