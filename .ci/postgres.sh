#!/usr/bin/env bash
# Start a throwaway PostgreSQL on loopback for the desk tests and print its SQLAlchemy URL.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
pg_ctlcluster "$version" main start >/dev/null 2>&1 || true
for _ in $(seq 1 30); do su postgres -c "pg_isready -q -h 127.0.0.1" && break; sleep 1; done
if ! su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='banshi'\"" | grep -q 1; then
  su postgres -c "psql -qc \"CREATE ROLE banshi LOGIN PASSWORD 'banshi'\"" >/dev/null
fi
if ! su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='banshi_test'\"" | grep -q 1; then
  su postgres -c "psql -qc 'CREATE DATABASE banshi_test OWNER banshi'" >/dev/null
fi
echo "postgresql+psycopg://banshi:banshi@127.0.0.1:5432/banshi_test"
