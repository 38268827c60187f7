#!/usr/bin/env bash
# Generates test/fixtures/attestation/vectors.json: TPM quote vectors made by a
# real TPM 2.0 (swtpm, started here on loopback and stopped at exit), the
# mutations of them the verifier must refuse, our expected verdict for each,
# and what tpm2_checkquote says about the same inputs.
#
# Nothing in the output is edited by hand: the genuine material comes from the
# TPM through tpm2-tools, and every mutation is made by assemble-vectors.cjs.
# Rerunning gives the same vectors, names and expectations; the bytes differ
# (fresh keys, ECDSA nonces, TPM clock).
#
# Needs: swtpm, tpm2-tools (5.x), openssl, node.   Usage: generate-vectors.sh [out.json]
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$root/test/fixtures/attestation/vectors.json}"
assemble="$here/assemble-vectors.cjs"

for tool in swtpm tpm2_createprimary tpm2_create tpm2_load tpm2_quote tpm2_pcrextend tpm2_pcrread \
  tpm2_certify tpm2_gettime tpm2_sign tpm2_flushcontext tpm2_checkquote openssl node; do
  command -v "$tool" >/dev/null || { echo "generate-vectors: $tool is missing (apt-get install swtpm swtpm-tools tpm2-tools openssl)" >&2; exit 1; }
done

work="$(mktemp -d)"
swtpm_pid=""
stop_swtpm() {
  if [[ -n "$swtpm_pid" ]]; then
    kill "$swtpm_pid" 2>/dev/null || true
    wait "$swtpm_pid" 2>/dev/null || true
    swtpm_pid=""
  fi
}
cleanup() {
  stop_swtpm
  rm -rf "$work"
}
trap cleanup EXIT

# --- swtpm on two consecutive free loopback ports --------------------------------
free_port_pair() {
  # Binds an ephemeral port and the one above it; prints the lower when both were free.
  node -e '
    const net = require("node:net");
    const listen = (port) => new Promise((ok, fail) => {
      const server = net.createServer();
      server.once("error", fail);
      server.listen(port, "127.0.0.1", () => ok(server));
    });
    (async () => {
      for (let attempt = 0; attempt < 50; attempt++) {
        const first = await listen(0);
        const port = first.address().port;
        const second = port < 65535 ? await listen(port + 1).catch(() => null) : null;
        first.close();
        if (second) { second.close(); console.log(port); return; }
      }
      process.exit(1);
    })();'
}

start_swtpm() {
  local state="$work/tpmstate" attempt port
  mkdir -p "$state"
  for attempt in 1 2 3 4 5; do
    port="$(free_port_pair)"
    swtpm socket --tpm2 --server "type=tcp,port=$port,bindaddr=127.0.0.1" \
      --ctrl "type=tcp,port=$((port + 1)),bindaddr=127.0.0.1" \
      --tpmstate "dir=$state" --flags startup-clear >"$work/swtpm.log" 2>&1 &
    swtpm_pid=$!
    export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port"
    # Ready when it answers a command; a port taken in the meantime makes it exit.
    for _ in $(seq 1 100); do
      if ! kill -0 "$swtpm_pid" 2>/dev/null; then break; fi
      if tpm2_pcrread sha256:0 >/dev/null 2>&1; then return 0; fi
      sleep 0.05
    done
    stop_swtpm
  done
  echo "generate-vectors: swtpm did not start:" >&2
  cat "$work/swtpm.log" >&2
  exit 1
}

# Without a resource manager, objects stay loaded until flushed; every step flushes.
flush() { tpm2_flushcontext -t >/dev/null; }

# --- helpers over tpm2-tools -------------------------------------------------------
nonce_hex() { printf '%s' "$1" | openssl dgst -sha256 -binary | head -c 16 | od -An -v -tx1 | tr -d ' \n'; }
sha256_hex() { printf '%s' "$1" | openssl dgst -sha256 -binary | od -An -v -tx1 | tr -d ' \n'; }
sha384_hex() { printf '%s' "$1" | openssl dgst -sha384 -binary | od -An -v -tx1 | tr -d ' \n'; }

# make_key NAME ALGORITHM ATTRIBUTES: a fresh key under the storage primary (TPM2_Create).
make_key() {
  local dir="$work/keys/$1"
  mkdir -p "$dir"
  tpm2_create -Q -C "$work/primary.ctx" -G "$2" -a "$3" -u "$dir/key.pub" -r "$dir/key.priv"
  flush
  tpm2_load -Q -C "$work/primary.ctx" -u "$dir/key.pub" -r "$dir/key.priv" -c "$dir/key.ctx"
  flush
}

# material NAME KEY PAYLOAD_ID PCR_SELECTION HASH: records what a material is for the assembler.
material() {
  local dir="$work/material/$1"
  mkdir -p "$dir"
  cp "$work/keys/$2/key.pub" "$dir/aik.pub"
  printf '%s\t%s\t%s\t%s\n' "$1" "$4" "$5" "$3" >>"$work/material/manifest.tsv"
}

# quote NAME KEY PAYLOAD_ID PCR_SELECTION HASH [SCHEME]: TPM2_Quote qualified by the
# payload id's nonce. tpm2_quote asks for RSASSA on RSA keys unless told the key's scheme.
quote() {
  material "$@"
  local dir="$work/material/$1"
  tpm2_quote -Q -c "$work/keys/$2/key.ctx" -l "$4" -q "$(nonce_hex "$3")" -g "$5" ${6:+--scheme "$6"} \
    -m "$dir/attest.msg" -s "$dir/signature.bin"
  flush
  tpm2_pcrread -Q "$4" -o "$dir/pcrs.bin"
}

start_swtpm
mkdir -p "$work/material"
: >"$work/material/manifest.tsv"

# Fixed measurements, so the PCR values are the same on every run.
for pcr in 0 7 10; do
  tpm2_pcrextend "$pcr:sha1=$(sha256_hex "nomyo vector pcr $pcr" | head -c 40),sha256=$(sha256_hex "nomyo vector pcr $pcr"),sha384=$(sha384_hex "nomyo vector pcr $pcr")"
done

tpm2_createprimary -Q -C o -g sha256 -G ecc256 -c "$work/primary.ctx"
flush

aik_attributes="fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign"
# The same key without `restricted`: it signs anything, including forged TPMS_ATTESTs.
unrestricted_attributes="fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign"

make_key ecc-p256 ecc256:ecdsa-sha256:null "$aik_attributes"
make_key ecc-p256-second ecc256:ecdsa-sha256:null "$aik_attributes"
make_key ecc-p384 ecc384:ecdsa-sha384:null "$aik_attributes"
make_key rsa2048-rsassa rsa2048:rsassa-sha256:null "$aik_attributes"
make_key rsa2048-rsapss rsa2048:rsapss-sha256:null "$aik_attributes"
make_key ecc-p256-unrestricted ecc256:ecdsa-sha256:null "$unrestricted_attributes"

payload_a="3f1c2a9e-5b7d-4e8a-9c0f-6d2b1a4e7c93"
payload_b="b9e07d3c-21f4-4a6e-8d15-7c3f90a2e6b4"
payload_unicode="zahlung-äöü-🔐-ναι-7c3f90a2"
selection="sha256:0,7,10"

quote ecc-p256 ecc-p256 "$payload_a" "$selection" sha256
quote ecc-p256-second ecc-p256-second "$payload_a" "$selection" sha256
quote ecc-p384 ecc-p384 "$payload_a" "$selection" sha384
quote rsa2048-rsassa rsa2048-rsassa "$payload_a" "$selection" sha256
quote rsa2048-rsapss rsa2048-rsapss "$payload_a" "$selection" sha256 rsapss
quote ecc-p256-sha384-bank ecc-p256 "$payload_a" "sha384:0,7,10" sha256
quote ecc-p256-sha1-bank ecc-p256 "$payload_a" "sha1:0,7,10" sha256
quote ecc-p256-unicode ecc-p256 "$payload_unicode" "$selection" sha256
quote ecc-p256-other-payload ecc-p256 "$payload_b" "$selection" sha256
quote unrestricted-quote ecc-p256-unrestricted "$payload_a" "$selection" sha256

# TPM2_Certify (the AIK certifying itself) and TPM2_GetTime: genuine TPMS_ATTESTs
# signed by the same restricted AIK, but not quotes.
material certify ecc-p256 "$payload_a" "$selection" sha256
tpm2_certify -Q -c "$work/keys/ecc-p256/key.ctx" -C "$work/keys/ecc-p256/key.ctx" -g sha256 \
  -o "$work/material/certify/attest.msg" -s "$work/material/certify/signature.bin"
flush
cp "$work/material/ecc-p256/pcrs.bin" "$work/material/certify/pcrs.bin"

material time ecc-p256 "$payload_a" "$selection" sha256
tpm2_gettime -Q -c "$work/keys/ecc-p256/key.ctx" -q "$(nonce_hex "$payload_a")" -g sha256 \
  --attestation "$work/material/time/attest.msg" -o "$work/material/time/signature.bin"
flush
cp "$work/material/ecc-p256/pcrs.bin" "$work/material/time/pcrs.bin"

# A forged TPMS_ATTEST (the unrestricted key's quote with its pcrDigest replaced
# by the digest of made-up PCR values), signed through TPM2_Sign: a restricted
# key refuses this (TPM_RC_TICKET), an unrestricted one signs it.
material unrestricted-forged ecc-p256-unrestricted "$payload_a" "$selection" sha256
node "$assemble" forge "$work/material/unrestricted-quote" "$work/material/unrestricted-forged"
tpm2_sign -Q -c "$work/keys/ecc-p256-unrestricted/key.ctx" -g sha256 \
  -o "$work/material/unrestricted-forged/signature.bin" "$work/material/unrestricted-forged/attest.msg"
flush

stop_swtpm

# --- vectors, and tpm2_checkquote's verdict on each ------------------------------------
node "$assemble" prepare "$work/material" "$work/vectors"
for dir in "$work"/vectors/*/; do
  [[ -f "$dir/checkquote.args" ]] || continue
  mapfile -t args <"$dir/checkquote.args"  # -l SELECTION -q NONCE -g HASH, one word a line
  if tpm2_checkquote -u "$dir/aik.pub" -m "$dir/attest.msg" -s "$dir/signature.bin" \
    -f "$dir/pcrs.bin" "${args[@]}" >/dev/null 2>&1; then
    echo accept >"$dir/checkquote.verdict"
  else
    echo reject >"$dir/checkquote.verdict"
  fi
  # Without the PCR file (and so without -l), as when only the signature and nonce are checked.
  if tpm2_checkquote -u "$dir/aik.pub" -m "$dir/attest.msg" -s "$dir/signature.bin" \
    "${args[@]:2}" >/dev/null 2>&1; then
    echo accept >"$dir/checkquote-no-pcrs.verdict"
  else
    echo reject >"$dir/checkquote-no-pcrs.verdict"
  fi
done

tools_tpm2="$(tpm2_quote --version | sed -n 's/.*version="\([^"]*\)".*/\1/p')"
tools_swtpm="$(swtpm --version | sed -n 's/.*version \([0-9.]*\).*/\1/p')"
node "$assemble" finish "$work/vectors" "$out" "$tools_tpm2" "$tools_swtpm"
echo "wrote $out"
