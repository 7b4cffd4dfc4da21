#!/bin/sh
# Dev PKI for the callguard stack: one CA and the leaf certificates Envoy, callguard, the example
# function and an example mTLS client need. POSIX sh + the openssl CLI only (runs in slim images).
#
#   sh scripts/dev-pki.sh [OUTDIR]        (default: .dev-pki, git-ignored)
#
# Idempotent: existing files are kept. If the CA key is missing, every certificate is reissued.
# Nothing here is a secret worth keeping: it is a development CA, valid for 30 days.
set -eu

OUT="${1:-.dev-pki}"
DAYS=30
mkdir -p "$OUT"
umask 077

if [ ! -f "$OUT/ca.key" ] || [ ! -f "$OUT/ca.crt" ]; then
  rm -f "$OUT"/*.crt "$OUT"/*.key
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$OUT/ca.key" -out "$OUT/ca.crt" -days "$DAYS" -subj "/O=callguard dev/CN=callguard dev CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi

# issue NAME COMMON_NAME EXTENDED_KEY_USAGE SUBJECT_ALT_NAMES
issue() {
  name="$1"; cn="$2"; eku="$3"; san="$4"
  if [ -f "$OUT/$name.crt" ] && [ -f "$OUT/$name.key" ]; then return 0; fi
  ext="$OUT/$name.ext"
  printf '%s\n' \
    "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=$eku" \
    "subjectAltName=$san" > "$ext"
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$OUT/$name.key" -out "$OUT/$name.csr" -subj "/O=callguard dev/CN=$cn" 2>/dev/null
  openssl x509 -req -in "$OUT/$name.csr" -CA "$OUT/ca.crt" -CAkey "$OUT/ca.key" -CAcreateserial \
    -out "$OUT/$name.crt" -days "$DAYS" -sha256 -extfile "$ext" 2>/dev/null
  rm -f "$OUT/$name.csr" "$ext"
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

# Leaf keys are readable by the non-root users of the Envoy and Node images that mount the compose
# volume; the CA key is only ever read by this script.
chmod 0644 "$OUT"/*.crt "$OUT"/*.key
chmod 0600 "$OUT/ca.key"
rm -f "$OUT/ca.srl"
echo "dev PKI ready in $OUT"
