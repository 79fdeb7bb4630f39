#!/usr/bin/env bash
# Install fleetcheck (editable) with its Python dependencies; with --test also the
# test tools and, when run as root, the Debian packages the tests start as real servers.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"

extras=""
if [[ "${1:-}" == "--test" ]]; then extras="[test]"; fi
"$PY" -m pip install --quiet --disable-pip-version-check -e ".${extras}"

if [[ "${1:-}" != "--test" ]]; then exit 0; fi

# Real servers for the tests: chrony (NTP), faketime, dnsmasq (DNS), docker-registry (OCI),
# chromium (scorecard in a real browser), and Debian's kubectl. Never start system services.
need=()
for pair in chronyd:chrony faketime:faketime dnsmasq:dnsmasq-base docker-registry:docker-registry chromium:chromium; do
  bin="${pair%%:*}"; pkg="${pair##*:}"
  command -v "$bin" >/dev/null 2>&1 || [[ -x "/usr/sbin/$bin" ]] || need+=("$pkg")
done
if [[ ${#need[@]} -gt 0 || ! -x .ci/bin/kubectl ]]; then
  if [[ "$(id -u)" != "0" ]]; then
    echo "setup: not root; install these Debian packages for the server tests: ${need[*]} kubernetes-client" >&2
    exit 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; fi
  apt-get update -qq
  if [[ ${#need[@]} -gt 0 ]]; then
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  if [[ ! -x .ci/bin/kubectl ]]; then
    # Debian's kubectl, extracted beside the repo: another package may own /usr/bin/kubectl.
    tmp="$(mktemp -d)"
    (cd "$tmp" && apt-get download -qq kubernetes-client >/dev/null && dpkg-deb -x kubernetes-client_*.deb x)
    mkdir -p .ci/bin && cp "$tmp/x/usr/bin/kubectl" .ci/bin/kubectl && rm -rf "$tmp"
  fi
fi
