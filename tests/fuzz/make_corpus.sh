#!/bin/sh
# Regenerates the seed corpus of tests/fuzz/corpus/ with the real tools
# (ssh-keygen, openssl, jitd init) and our generators (gen_oidc.c,
# gen_audit.c; see their headers).  Run from the top of the tree after
# `make`; hand-written seeds and regression inputs are left alone.
set -eu
C=tests/fuzz/corpus
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p $C/sshkey $C/sshcert $C/csr $C/krl $C/audit $C/jwt $C/jwks \
    $C/config $C/body $C/slack
blob() { cut -d' ' -f2 "$1" | base64 -d; }

# OpenSSH keys: lines and wire blobs.
ssh-keygen -q -t ed25519 -N '' -C alice@example -f $T/ed
ssh-keygen -q -t ecdsa -b 256 -N '' -f $T/p256
ssh-keygen -q -t ecdsa -b 384 -N '' -f $T/p384
ssh-keygen -q -t ecdsa -b 521 -N '' -f $T/p521
ssh-keygen -q -t rsa -b 2048 -N '' -f $T/rsa
for k in ed p256 p384 p521 rsa; do
	cp $T/$k.pub $C/sshkey/line-$k.pub
	blob $T/$k.pub > $C/sshkey/blob-$k.bin
done
blob $T/ed.pub | head -c 30 > $C/sshkey/bad-truncated.bin
printf 'ssh-rsa %s\n' "$(cut -d' ' -f2 $T/ed.pub)" > $C/sshkey/bad-type-mismatch.pub

# Certificates by an Ed25519 CA (and one by an RSA CA, refused).
ssh-keygen -q -t ed25519 -N '' -f $T/ca
ssh-keygen -q -s $T/ca -I alice-1 -n alice,root -z 42 -V +1h \
    -O source-address=10.0.0.0/8 $T/ed.pub
ssh-keygen -q -s $T/ca -I host -h -n h.example -z 7 $T/p256.pub
ssh-keygen -q -s $T/ca -I rsa -n alice -O clear -O permit-pty $T/rsa.pub
blob $T/ed-cert.pub > $C/sshcert/user-ed25519.cert
blob $T/p256-cert.pub > $C/sshcert/host-p256.cert
blob $T/rsa-cert.pub > $C/sshcert/user-rsa.cert
blob $T/ed.pub > $C/sshcert/plain-ed25519.key
blob $T/rsa.pub > $C/sshcert/plain-rsa.key
ssh-keygen -q -t rsa -b 2048 -N '' -f $T/rsaca
ssh-keygen -q -s $T/rsaca -I x -n alice $T/p384.pub
blob $T/p384-cert.pub > $C/sshcert/bad-rsa-ca.cert

# CSRs, PEM and DER.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout $T/k1 -subj /CN=alice -out $C/csr/p256.pem 2>/dev/null
openssl req -new -newkey ed25519 -nodes -keyout $T/k2 -subj /CN=bob \
    -addext subjectAltName=URI:spiffe://x -out $C/csr/ed25519.pem 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout $T/k3 -subj /CN=carol/O=x \
    -outform DER -out $C/csr/rsa2048.der 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes \
    -keyout $T/k4 -subj /CN=dave -outform DER -out $C/csr/p384.der 2>/dev/null
head -c 200 $C/csr/rsa2048.der > $C/csr/bad-truncated.der

# KRLs by ssh-keygen (serials and ranges; the id form is refused).
printf 'serial: 1\nserial: 5-9\nserial: 1000\n' > $T/spec
ssh-keygen -q -k -f $C/krl/serials.krl -s $T/ca.pub $T/spec
printf 'serial: 18446744073709551614\n' > $T/spec
ssh-keygen -q -k -f $C/krl/big-serial.krl -s $T/ca.pub $T/spec
printf 'id: alice-1\n' > $T/spec
ssh-keygen -q -k -f $C/krl/bad-keyid.krl -s $T/ca.pub $T/spec

# Audit export, OIDC tokens and JWKS.
if [ -x build/gen_audit ]; then
	build/gen_audit > $C/audit/export-signed.jsonl
fi
if [ -x build/gen_oidc ]; then
	build/gen_oidc
fi

# The config of a fresh instance.
bin/jitd init $T/inst >/dev/null
cp $T/inst/jitd.json $C/config/jitd-init.json
