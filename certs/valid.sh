#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Is the test PKI in DIR still good to use? Every certificate that is meant
# to be current (all but the deliberately expired and not-yet-valid ones)
# must have at least a day left, and the CRL must not be due. Silent and 0
# when it is; else says why and exits 1 (make then makes a new PKI).
# Usage: certs/valid.sh DIR
set -eu
dir=${1:?usage: certs/valid.sh DIR}
[ -r "$dir/root-a.crt" ] || { echo "certs: no test PKI in $dir"; exit 1; }
for c in "$dir"/*.crt; do
    case "$(basename "$c")" in
        server-expired.crt|device-expired.crt|server-not-yet-valid.crt) continue ;;
    esac
    if ! openssl x509 -in "$c" -noout -checkend 86400 >/dev/null 2>&1; then
        echo "certs: $(basename "$c") expires within a day; making a new test PKI"
        exit 1
    fi
done
if [ -r "$dir/root-a.crl" ]; then
    next=$(openssl crl -in "$dir/root-a.crl" -noout -nextupdate | sed 's/^nextUpdate=//')
    if [ "$(date -u -d "$next" +%s)" -lt "$(( $(date -u +%s) + 86400 ))" ]; then
        echo "certs: root-a.crl is due within a day; making a new test PKI"
        exit 1
    fi
fi
