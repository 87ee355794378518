#!/bin/sh
# Writes the EstateOps service accounts into the service listener's password file, makes
# sure the device files exist (empty until `estateops broker sync` writes them), then
# runs Mosquitto. Accounts: docs/security.md.
set -eu

config_file="${MOSQUITTO_CONFIG_FILE:-/mosquitto/config/mosquitto.conf}"
auth_dir="${MOSQUITTO_AUTH_DIR:-/mosquitto/auth}"
: "${MQTT_GATEWAY_PASSWORD:?set MQTT_GATEWAY_PASSWORD}"
: "${MQTT_API_PASSWORD:?set MQTT_API_PASSWORD}"

mkdir -p "$auth_dir"
services="$auth_dir/services.passwd"
# Written anew on every start: a password changed in .env is the only one that works.
rm -f "$services"
touch "$services"
# Only the broker may read it (newer Mosquitto releases warn about anything looser).
chmod 0600 "$services"
mosquitto_passwd -b "$services" estateops-gateway "$MQTT_GATEWAY_PASSWORD"
mosquitto_passwd -b "$services" estateops-api "$MQTT_API_PASSWORD"
if [ -n "${MQTT_SIMULATOR_PASSWORD:-}" ]; then
    mosquitto_passwd -b "$services" estateops-simulator "$MQTT_SIMULATOR_PASSWORD"
fi
# No device can log in until `estateops broker sync` has written these.
for file in devices.passwd devices.acl; do
    [ -e "$auth_dir/$file" ] || touch "$auth_dir/$file"
done
if [ "$(id -u)" = 0 ] && id mosquitto >/dev/null 2>&1; then
    # The broker drops from root to the mosquitto user and must still read it.
    chown mosquitto:mosquitto "$services"
fi

exec mosquitto -c "$config_file"
