#!/bin/sh
# Adds (or updates) the EstateOps service account in the broker's password file,
# then runs Mosquitto. Device accounts added with mosquitto_passwd stay in the file.
set -eu

config_file="${MOSQUITTO_CONFIG_FILE:-/mosquitto/config/mosquitto.conf}"
password_file="${MOSQUITTO_PASSWORD_FILE:-/mosquitto/auth/passwd}"
: "${MQTT_SERVICE_USERNAME:?set MQTT_SERVICE_USERNAME}"
: "${MQTT_SERVICE_PASSWORD:?set MQTT_SERVICE_PASSWORD}"

mkdir -p "$(dirname "$password_file")"
touch "$password_file"
# Only the broker may read it (newer Mosquitto releases warn about anything looser).
chmod 0600 "$password_file"
mosquitto_passwd -b "$password_file" "$MQTT_SERVICE_USERNAME" "$MQTT_SERVICE_PASSWORD"
if [ "$(id -u)" = 0 ] && id mosquitto >/dev/null 2>&1; then
    # The broker drops from root to the mosquitto user and must still read it.
    chown mosquitto:mosquitto "$password_file"
fi

exec mosquitto -c "$config_file"
