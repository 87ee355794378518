"""Zigbee2MQTT: a coordinator's devices as contract devices ([README](../README.md))."""

from bridges.zigbee2mqtt.bridge import Zigbee2MqttBridge
from bridges.zigbee2mqtt.profiles import Z2mProfile, load_z2m_profiles

__all__ = ["Z2mProfile", "Zigbee2MqttBridge", "load_z2m_profiles"]
