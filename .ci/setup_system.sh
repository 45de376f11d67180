#!/usr/bin/env bash
# System packages the tests need beyond requirements.txt: Debian's chromium (headless browser
# for tests/test_report.py). Idempotent: does nothing when chromium is already installed.
# Called by .ci/run (as root, with Debian's mirrors reachable) before pytest.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "setup_system.sh: chromium missing and not root; install it with: apt-get install -y chromium" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
test -x /usr/bin/chromium
echo "setup_system.sh: $(/usr/bin/chromium --version 2>/dev/null || echo chromium installed)"
