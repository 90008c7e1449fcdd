#!/bin/sh
# Creates Rasa's tracker database beside the app's (run once by the postgres image).
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -c "CREATE DATABASE \"${RASA_TRACKER_DB}\""
