#!/usr/bin/env bash
# Installs the Debian packages the test suites use, when any is missing:
#   knot           an authoritative DNS server: DNS tests serve their own zones on 127.0.0.1
#   knot-dnsutils  kdig, to look at what that server answers
#   swaks          an SMTP client we did not write
#   libnet-ssleay-perl  lets swaks speak STARTTLS
#   python3        smtplib, another SMTP client we did not write
#   python3-yaml   PyYAML: the RFC 7208 suite's tooling (tests/tools/spf-suite) reads the suite with it
#   postfix        smtp-sink (a downstream SMTP server we did not write) and its sendmail
#   python3-aiosmtpd  a scriptable downstream SMTP server (per-recipient replies, TLS, AUTH)
#   afl++          afl-fuzz, which drives the SharpFuzz harness in fuzz/ (fuzz/run.sh)
#   slapd          OpenLDAP's server: LDAP verification tests run their own directory on 127.0.0.1
#   ldap-utils     ldapsearch, to see when that directory answers
#   openssl        makes the test directory's CA and server certificate (LDAPS, StartTLS)
#   redis-server   the shared state store: Redis tests run their own server on 127.0.0.1 (plain and TLS)
#   chromium       headless Chromium: renders Export-SmtpdReport's page and reports its console errors
#   fonts-dejavu-core  a font for that page's text (Chromium only recommends one)
#   prometheus     promtool, which checks what the metrics endpoint serves (`promtool check metrics`)
# Idempotent: when everything is installed it only says so. Non-interactive.
# Called by `build.ps1 -Task Test` on Linux hosts that have apt-get.
set -euo pipefail

packages=(knot knot-dnsutils swaks libnet-ssleay-perl python3 python3-yaml postfix python3-aiosmtpd afl++ slapd ldap-utils openssl redis-server chromium fonts-dejavu-core prometheus)

missing=()
for p in "${packages[@]}"; do
    # dpkg -s also lists removed-but-not-purged packages; only "install ok installed" counts.
    if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-test-deps: all present (${packages[*]})"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-test-deps: missing ${missing[*]} and apt-get is not available; install them by hand" >&2
    exit 1
fi

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif [ -t 0 ]; then
        sudo "$@"
    else
        # No terminal (CI): fail rather than wait for a password nobody will type.
        sudo -n "$@"
    fi
}
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
    echo "install-test-deps: missing ${missing[*]}; not root and no sudo" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive

# The tests start their own knot on 127.0.0.1 with a port of their choosing. The packaged
# service would bind port 53 on every address, so keep the package scripts from starting
# it: policy-rc.d exiting 101 tells invoke-rc.d and deb-systemd-invoke "not now".
# An existing policy-rc.d (containers usually have one) is left as it is.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
    echo "install-test-deps: writing a temporary $policy so no service starts"
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod 755 "$policy"
    made_policy=1
fi
cleanup() {
    if [ "$made_policy" -eq 1 ]; then
        echo "install-test-deps: removing the temporary $policy"
        as_root rm -f "$policy"
    fi
}
trap cleanup EXIT

echo "install-test-deps: missing ${missing[*]}"
# postfix would otherwise ask which kind of mail system this is; the tests only need its
# programs (smtp-sink, sendmail), never a configured system instance.
if printf '%s\n' "${missing[@]}" | grep -qx postfix; then
    echo "postfix postfix/main_mailer_type select No configuration" | as_root debconf-set-selections
fi
# slapd would otherwise make a directory for this host's domain under /var/lib/ldap; the tests
# only need its programs (slapd, slapadd) and run every directory from a temporary folder.
if printf '%s\n' "${missing[@]}" | grep -qx slapd; then
    echo "slapd slapd/no_configuration boolean true" | as_root debconf-set-selections
fi
echo "install-test-deps: apt-get update"
as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
echo "install-test-deps: apt-get install -y --no-install-recommends ${missing[*]}"
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"

# On a host running systemd the unit was enabled though not started; a reboot would start
# it on port 53. The tests never want it, so switch it off when this script installed it.
if printf '%s\n' "${missing[@]}" | grep -qx knot && [ -d /run/systemd/system ] \
    && command -v systemctl >/dev/null 2>&1; then
    echo "install-test-deps: disabling the packaged knot service (tests run their own)"
    as_root systemctl disable --now knot.service >/dev/null 2>&1 || true
fi
# The same for slapd, whose packaged service would listen on port 389 of every address.
if printf '%s\n' "${missing[@]}" | grep -qx slapd && [ -d /run/systemd/system ] \
    && command -v systemctl >/dev/null 2>&1; then
    echo "install-test-deps: disabling the packaged slapd service (tests run their own)"
    as_root systemctl disable --now slapd.service >/dev/null 2>&1 || true
fi

# The same for redis-server, whose packaged service would listen on 127.0.0.1:6379.
if printf '%s\n' "${missing[@]}" | grep -qx redis-server && [ -d /run/systemd/system ] \
    && command -v systemctl >/dev/null 2>&1; then
    echo "install-test-deps: disabling the packaged redis-server service (tests run their own)"
    as_root systemctl disable --now redis-server.service >/dev/null 2>&1 || true
fi

# The same for prometheus, whose packaged service would scrape and listen on port 9090.
if printf '%s\n' "${missing[@]}" | grep -qx prometheus && [ -d /run/systemd/system ] \
    && command -v systemctl >/dev/null 2>&1; then
    echo "install-test-deps: disabling the packaged prometheus service (tests only run promtool)"
    as_root systemctl disable --now prometheus.service >/dev/null 2>&1 || true
fi

echo "install-test-deps: done"
