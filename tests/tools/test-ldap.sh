#!/usr/bin/env bash
# Starts the test directory: OpenLDAP's slapd serving tests/fixtures/ldap (schema, entries) on
# 127.0.0.1, plain LDAP (and StartTLS) on one port and LDAPS on another. The one way the tests
# start it: TestLdapServer.cs (xunit) and Start-TestLdap.ps1 (Pester) run this script, then
# wait until an ldapsearch answers.
#
#   test-ldap.sh DIR LDAP_PORT LDAPS_PORT [TLS_DIR]
#
# DIR      a new or empty directory for the configuration and database (the caller removes it);
#          the same DIR again restarts the directory with its database as it was
# TLS_DIR  where the CA (ca.pem, ca.key) and server certificate (server.pem, server.key, for
#          127.0.0.1 and localhost) are; made when ca.pem is missing. Default: DIR/tls. Callers
#          that trust the CA for a whole process pass the same folder to every directory.
#
# The database is loaded with slapadd before slapd starts; then the script becomes slapd in the
# foreground (exec), logging connections and operations (-d stats) to standard error, so the
# caller's process handle is slapd itself: killing it stops the directory.
# SMTPD_TEST_SLAPD, SMTPD_TEST_SLAPD_SCHEMA and SMTPD_TEST_SLAPD_MODULES override the slapd
# executable, the schema folder and the module folder (Debian's by default).
set -euo pipefail

if [ $# -lt 3 ] || [ $# -gt 4 ]; then
    echo "usage: $0 DIR LDAP_PORT LDAPS_PORT [TLS_DIR]" >&2
    exit 2
fi
dir=$1 port=$2 ldaps_port=$3 tls=${4:-$1/tls}
fixtures=$(cd "$(dirname "$0")/../fixtures/ldap" && pwd)
slapd=${SMTPD_TEST_SLAPD:-}
if [ -z "$slapd" ]; then
    for candidate in "$(command -v slapd || true)" /usr/sbin/slapd /usr/local/sbin/slapd /usr/local/libexec/slapd; do
        if [ -n "$candidate" ] && [ -x "$candidate" ]; then slapd=$candidate; break; fi
    done
fi
if [ -z "$slapd" ] || [ ! -x "$slapd" ]; then
    echo "test-ldap: slapd was not found: run tests/tools/install-test-deps.sh (on Debian: apt-get install slapd ldap-utils), or set SMTPD_TEST_SLAPD" >&2
    exit 127
fi
schema=${SMTPD_TEST_SLAPD_SCHEMA:-/etc/ldap/schema}
modules=${SMTPD_TEST_SLAPD_MODULES:-/usr/lib/ldap}

mkdir -p "$dir/db" "$tls"

# A CA and a server certificate signed by it, made once per TLS_DIR. P-256 keys: quick to make.
# mkdir is the lock: two directories starting at once with the same TLS_DIR make it once.
if [ ! -e "$tls/ca.pem" ]; then
    if mkdir "$tls/.making" 2>/dev/null; then
        work=$tls/.making
        openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
            -subj "/CN=SmtpdModule test LDAP CA" -keyout "$work/ca.key" -out "$work/ca.pem" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -subj "/CN=127.0.0.1" -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
        printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
            "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" > "$work/server.ext"
        openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
            -days 30 -extfile "$work/server.ext" -out "$work/server.pem" 2>/dev/null
        mv "$work/ca.key" "$work/server.key" "$work/server.pem" "$tls/"
        mv "$work/ca.pem" "$tls/ca.pem"   # last: its presence says the folder is complete
        rm -rf "$work"
    else
        for _ in $(seq 1 200); do [ -e "$tls/ca.pem" ] && break; sleep 0.05; done
        [ -e "$tls/ca.pem" ] || { echo "test-ldap: $tls/ca.pem was not made by the other starter" >&2; exit 1; }
    fi
fi

cp "$fixtures/proxyaddresses.schema" "$dir/"
sed -e "s#{{DIR}}#$dir#g" -e "s#{{TLS}}#$tls#g" -e "s#{{SCHEMA}}#$schema#g" -e "s#{{MODULES}}#$modules#g" \
    "$fixtures/slapd.conf.in" > "$dir/slapd.conf"
# Loaded once: run again on the same DIR (a restart), slapd serves the database as it was.
if [ ! -e "$dir/db/data.mdb" ]; then
    "$(dirname "$slapd")/slapadd" -q -f "$dir/slapd.conf" -l "$fixtures/seed.ldif" 2>"$dir/slapadd.log" \
        || { cat "$dir/slapadd.log" >&2; exit 1; }
fi

exec "$slapd" -f "$dir/slapd.conf" -h "ldap://127.0.0.1:$port/ ldaps://127.0.0.1:$ldaps_port/" -d stats
