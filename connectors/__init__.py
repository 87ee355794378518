"""Connections both the gateway and the API use: the MQTT broker (`mqtt`) and the
telemetry stores (`store`: InfluxDB v1, v2 and the embedded one)."""
