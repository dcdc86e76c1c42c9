#!/usr/bin/env bash
# The queue test (tests/unit/queue.test.ts) starts its own redis-server; Debian's package is
# installed here when absent and we are root, otherwise the command to install it is named.
set -euo pipefail
if command -v redis-server >/dev/null; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's redis-server (needed by the queue test)…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  exit 0
fi
echo "redis-server is missing. Install it with:  sudo apt-get update && sudo apt-get install -y redis-server" >&2
exit 1
