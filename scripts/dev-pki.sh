#!/bin/sh
# Dev PKI for the callguard stack: one CA and the leaf certificates Envoy, callguard, the example
# function and an example mTLS client need. POSIX sh + the openssl CLI only (runs in slim images:
# dash in node:20-slim for compose's `pki` service).
#
#   sh scripts/dev-pki.sh [OUTDIR]                  (default: .dev-pki, git-ignored)
#   sh scripts/dev-pki.sh OUTDIR --revoke FILE.crt  revoke a certificate of the dev CA (ca.crl)
#
# Run on every start (`npm run stack`, the e2e harness, compose's `pki` service), it keeps the PKI usable:
# - a leaf is reissued (same names) when it expires within RENEW_DAYS, is not yet valid, was not issued
#   by the current CA, its key does not match, or its SANs are not the ones below;
# - the CA is re-created, with every leaf (a new CA invalidates the old leaves), when its key is missing or
#   does not match, or it expires within LEAF_DAYS (so a leaf never outlives its CA).
# - the CA's revocation list ca.crl (every Envoy validation context loads it) is issued when missing, when
#   the CA changed, or when it expires within RENEW_DAYS; it lives CRL_DAYS. A leaf above that ca.crl revokes
#   is reissued. An expired CRL makes Envoy refuse every certificate of the CA: restart within RENEW_DAYS.
# One line per reissued certificate says why. A healthy PKI is left untouched, byte for byte.
# Nothing here is a secret worth keeping: it is a development CA.
set -eu

OUT="${1:-.dev-pki}"
CA_DAYS=365
LEAF_DAYS=30
# A third of a leaf's lifetime: every start leaves each leaf at least 10 days, so a stack restarted at least
# every 10 days never serves an expired one.
RENEW_DAYS=10
CRL_DAYS=30
DAY=86400
REVOKE=
if [ "${2:-}" = "--revoke" ]; then
  REVOKE="${3:?usage: dev-pki.sh OUTDIR --revoke FILE.crt}"
elif [ $# -gt 1 ]; then
  echo "usage: dev-pki.sh [OUTDIR] [--revoke FILE.crt]" >&2; exit 2
fi
mkdir -p "$OUT"
umask 077

say() { printf 'dev-pki: %s\n' "$*"; }

# Prints why a certificate cannot be kept (nothing when it can): cert_problem CRT KEY RENEW_SECONDS CA
cert_problem() {
  crt="$1"; key="$2"; window="$3"; ca="$4"
  if [ ! -f "$crt" ]; then echo "$(basename "$crt") is missing"; return 0; fi
  if [ ! -f "$key" ]; then echo "$(basename "$key") is missing"; return 0; fi
  cert_pub=$(openssl x509 -in "$crt" -noout -pubkey 2>/dev/null) || { echo "not a readable PEM certificate"; return 0; }
  key_pub=$(openssl pkey -in "$key" -pubout 2>/dev/null) || key_pub=
  if [ "$cert_pub" != "$key_pub" ]; then echo "$(basename "$key") does not match the certificate"; return 0; fi
  if ! openssl verify -CAfile "$ca" "$crt" >/dev/null 2>&1; then
    if ! openssl verify -no_check_time -CAfile "$ca" "$crt" >/dev/null 2>&1; then
      echo "not issued by the current CA ($(basename "$ca"))"
    elif ! openssl x509 -in "$crt" -noout -checkend 0 >/dev/null; then
      echo "expired on $(cert_date "$crt" enddate)"
    else
      echo "not valid before $(cert_date "$crt" startdate)"
    fi
    return 0
  fi
  if [ "$crt" != "$ca" ] && [ -f "$OUT/ca.crl" ] \
    && ! openssl verify -crl_check -CRLfile "$OUT/ca.crl" -CAfile "$ca" "$crt" >/dev/null 2>&1; then
    echo "revoked by ca.crl"; return 0
  fi
  if ! openssl x509 -in "$crt" -noout -checkend "$window" >/dev/null; then
    echo "expires on $(cert_date "$crt" enddate), within the $((window / DAY))-day renewal window"
  fi
  return 0
}

# cert_date CRT enddate|startdate: the date as openssl prints it (`Jan  2 04:31:35 2027 GMT`).
cert_date() {
  d=$(openssl x509 -in "$1" -noout "-$2"); echo "${d#*=}"
}

# Whitespace-free SAN list as openssl prints it, with `IP Address:` spelled `IP:` as in the config.
sans_of() {
  openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null | sed 1d | tr -d ' \t\n' | sed 's/IPAddress:/IP:/g'
}

FRESH=yes
for f in "$OUT"/*.crt "$OUT"/*.key; do
  if [ -e "$f" ]; then FRESH=; break; fi
done

NEW_CA=
ca_why=$(cert_problem "$OUT/ca.crt" "$OUT/ca.key" $((LEAF_DAYS * DAY)) "$OUT/ca.crt")
if [ -n "$ca_why" ]; then
  [ -n "$FRESH" ] || say "renewed $OUT/ca.crt: $ca_why; every certificate is reissued"
  rm -f "$OUT"/*.crt "$OUT"/*.key
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$OUT/ca.key" -out "$OUT/ca.crt" -days "$CA_DAYS" -subj "/O=callguard dev/CN=callguard dev CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  NEW_CA=yes
fi

# ca_db COMMAND...: run `openssl ca` on a scratch copy of the revocation database (ca-index.txt, kept only once
# something is revoked), the CRL number continuing from ca.crl's; the database is copied back afterwards.
ca_db() {
  db=$(mktemp -d)
  if [ -f "$OUT/ca-index.txt" ]; then cp "$OUT/ca-index.txt" "$db/index.txt"; else : > "$db/index.txt"; fi
  n=$(openssl crl -in "$OUT/ca.crl" -noout -crlnumber 2>/dev/null | sed 's/^crlNumber=//') || n=
  printf '%08X\n' $((${n:-0x1000} + 1)) > "$db/crlnumber"
  printf '%s\n' '[ca]' 'default_ca=dev' '[dev]' "database=$db/index.txt" "crlnumber=$db/crlnumber" \
    'default_md=sha256' "default_crl_days=$CRL_DAYS" > "$db/ca.cnf"
  if ! err=$(openssl ca -batch -config "$db/ca.cnf" -keyfile "$OUT/ca.key" -cert "$OUT/ca.crt" "$@" 2>&1); then
    rm -rf "$db"; say "openssl ca $1 failed: $(printf '%s\n' "$err" | grep -v '^Using configuration' | head -n 1)" >&2; exit 1
  fi
  if [ -s "$db/index.txt" ]; then cp "$db/index.txt" "$OUT/ca-index.txt"; fi
  rm -rf "$db"
}

# Prints why ca.crl must be issued anew (nothing when it can be kept).
crl_problem() {
  if [ ! -f "$OUT/ca.crl" ]; then echo "ca.crl is missing"; return 0; fi
  if ! openssl crl -in "$OUT/ca.crl" -CAfile "$OUT/ca.crt" -noout >/dev/null 2>&1; then echo "not signed by the current CA"; return 0; fi
  # Valid for at least RENEW_DAYS more: checked the way Envoy will, at that time.
  if ! openssl verify -crl_check -CRLfile "$OUT/ca.crl" -CAfile "$OUT/ca.crt" -attime $(($(date +%s) + RENEW_DAYS * DAY)) \
      "$OUT/ca.crt" >/dev/null 2>&1; then
    echo "expires within the $RENEW_DAYS-day renewal window"
  fi
  return 0
}

if [ -n "$NEW_CA" ]; then rm -f "$OUT/ca.crl" "$OUT/ca-index.txt"; fi
CHANGED=$NEW_CA
if [ -n "$REVOKE" ]; then
  if [ ! -f "$REVOKE" ]; then say "cannot revoke $REVOKE: no such file" >&2; exit 1; fi
  if ! openssl verify -CAfile "$OUT/ca.crt" "$REVOKE" >/dev/null 2>&1; then say "cannot revoke $REVOKE: not issued by the current CA" >&2; exit 1; fi
  ca_db -revoke "$REVOKE"
  ca_db -gencrl -out "$OUT/ca.crl"
  say "revoked $REVOKE (serial $(openssl x509 -in "$REVOKE" -noout -serial | sed 's/^serial=//')); $OUT/ca.crl updated"
  CHANGED=yes
else
  crl_why=$(crl_problem)
  if [ -n "$crl_why" ]; then
    ca_db -gencrl -out "$OUT/ca.crl"
    [ -n "$FRESH" ] || [ -n "$NEW_CA" ] || say "renewed $OUT/ca.crl: $crl_why"
    CHANGED=yes
  fi
fi
# issue NAME COMMON_NAME EXTENDED_KEY_USAGE SUBJECT_ALT_NAMES
issue() {
  name="$1"; cn="$2"; eku="$3"; san="$4"
  crt="$OUT/$name.crt"
  if [ -n "$NEW_CA" ]; then
    why="the CA was re-created"
  else
    why=$(cert_problem "$crt" "$OUT/$name.key" $((RENEW_DAYS * DAY)) "$OUT/ca.crt")
    if [ -z "$why" ]; then
      has=$(sans_of "$crt")
      [ "$has" = "$san" ] || why="SANs are ${has:-none}, expected $san"
    fi
  fi
  if [ -z "$why" ]; then return 0; fi
  ext="$OUT/$name.ext"
  printf '%s\n' \
    "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=$eku" \
    "subjectAltName=$san" > "$ext"
  if ! err=$(openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
      -keyout "$OUT/$name.key" -out "$OUT/$name.csr" -subj "/O=callguard dev/CN=$cn" 2>&1) \
    || ! err=$(openssl x509 -req -in "$OUT/$name.csr" -CA "$OUT/ca.crt" -CAkey "$OUT/ca.key" -CAcreateserial \
      -out "$crt" -days "$LEAF_DAYS" -sha256 -extfile "$ext" 2>&1); then
    rm -f "$OUT/$name.csr" "$ext"
    err=$(printf '%s\n' "$err" | sed '/self-signature ok/d; /^subject=/d' | head -n 1)
    say "cannot renew $crt ($why): $err" >&2
    exit 1
  fi
  rm -f "$OUT/$name.csr" "$ext"
  [ -n "$FRESH" ] || say "renewed $crt: $why"
  CHANGED=yes
}

# Envoy's downstream listener. Its SAN is what Envoy reports as `destination.principal`,
# which callguard reads as "this call arrived over TLS".
issue envoy envoy serverAuth "DNS:envoy,DNS:localhost,IP:127.0.0.1"
# Envoy's client certificate, presented on both hops Envoy originates (-> callguard, -> function).
# callguard (server.tls.clientSans) and the function (--envoy-san) accept its SPIFFE ID and nothing else.
issue envoy-client envoy-client clientAuth "DNS:envoy-client,URI:spiffe://example.org/ns/edge/sa/envoy"
# callguard's gRPC server (Envoy checks the DNS SAN `callguard`).
issue callguard callguard serverAuth "DNS:callguard,DNS:localhost,IP:127.0.0.1"
# The example function (Envoy checks the DNS SAN `function`).
issue function function serverAuth "DNS:function,DNS:localhost,IP:127.0.0.1"
# A function impostor: same CA, same loopback names, but not the SAN Envoy expects.
issue function-wrong impostor serverAuth "DNS:impostor,DNS:localhost,IP:127.0.0.1"
# An example workload calling over mTLS: exactly one URI SAN, its SPIFFE ID.
issue client billing clientAuth "URI:spiffe://example.org/ns/default/sa/billing"

rm -f "$OUT/ca.srl"
if [ -n "$CHANGED" ]; then
  # Leaf keys are readable by the non-root users of the Envoy and Node images that mount the compose
  # volume; the CA key is only ever read by this script. Only after a change: a healthy PKI may be read-only.
  chmod 0644 "$OUT"/*.crt "$OUT"/*.key "$OUT/ca.crl"
  chmod 0600 "$OUT/ca.key"
fi
echo "dev PKI ready in $OUT (CA valid $CA_DAYS days, certificates and CRL $LEAF_DAYS days, renewed within $RENEW_DAYS days of expiry)"
