#!/usr/bin/env bash
# Browser tests drive Debian's Chromium at /usr/bin/chromium; never a downloaded browser.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium (needed by the browser tests)…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "Chromium is missing. Install it with:  sudo apt-get update && sudo apt-get install -y chromium" >&2
exit 1
