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

# axe-core (npm) for the scorecard's accessibility test, into .ci/js beside the repo (git-ignored).
install_axe() {
  [[ -f .ci/js/node_modules/axe-core/axe.min.js ]] && return 0
  command -v npm >/dev/null 2>&1 || return 0
  npm install --prefix .ci/js --no-audit --no-fund --silent axe-core@4.14.1 >/dev/null \
    || echo "setup: npm could not install axe-core; the scorecard accessibility test will skip" >&2
}
install_axe

# The official SARIF 2.1.0 schema (lib/schemas/sarif-2.1.0-rtm.5.json) for tests/reports/test_sarif.py, which
# fails without it. Saved in .ci/js/package.json, never --no-save: npm prunes an unsaved package the next
# time it installs another one there (axe-core above), so the schema would vanish on the next set-up.
install_sarif_schema() {
  [[ -f .ci/js/node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json ]] && return 0
  command -v npm >/dev/null 2>&1 || return 0
  npm install --prefix .ci/js --save-exact --no-audit --no-fund --silent @microsoft/jest-sarif@1.0.0-beta.0 >/dev/null \
    || echo "setup: npm could not install @microsoft/jest-sarif; tests/reports/test_sarif.py will fail" >&2
}
install_sarif_schema

# pytest-profiling, the plugin whose --profile once collided with fleetcheck's, beside the venv (not in it: it
# would load into every test session): tests/cli/test_coexistence.py runs it for real with PYTHONPATH.
if [[ ! -f .ci/pyplugins/pytest_profiling.py ]]; then
  "$PY" -m pip install --quiet --disable-pip-version-check --no-deps --target .ci/pyplugins \
    pytest-profiling==1.8.1 gprof2dot six
fi

# Real servers for the tests: chrony (NTP), faketime, dnsmasq (DNS), docker-registry (OCI),
# chromium (scorecard in a real browser), and Debian's kubectl. Never start system services.
need=()
for pair in chronyd:chrony faketime:faketime dnsmasq:dnsmasq-base docker-registry:docker-registry chromium:chromium npm:npm; do
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
install_axe
install_sarif_schema
