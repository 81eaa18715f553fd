#!/bin/sh
# Makes the private CA the agents trust and the broker's certificate signed by it (docs/deploy.md).
# Usage: deploy/make-pki.sh DIR NAME [NAME|IP ...]
#   DIR     where ca.key, ca.crt, server.key, server.crt go (ca.key never leaves this machine)
#   NAME... the names the agents and the collector use to reach the broker, e.g. mqtt.example.org mosquitto
# Re-running keeps the CA (agents keep trusting it) and issues a new broker certificate.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 DIR NAME [NAME|IP ...]" >&2; exit 2; }
dir=$1; shift
mkdir -p "$dir"
umask 077

san=""
for name in "$@"; do
  case $name in
    *[!0-9.]*) san="$san${san:+,}DNS:$name" ;;
    *) san="$san${san:+,}IP:$name" ;;
  esac
done

if [ ! -f "$dir/ca.key" ]; then
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 3650 \
    -subj "/CN=Vigie MQTT CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt"
fi

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
  -subj "/CN=$1" -keyout "$dir/server.key" -out "$dir/server.csr"
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
  "$san" >"$dir/server.ext"
openssl x509 -req -sha256 -days 825 -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
  -CAcreateserial -extfile "$dir/server.ext" -out "$dir/server.crt"
rm -f "$dir/server.csr" "$dir/server.ext"
chmod 644 "$dir/ca.crt" "$dir/server.crt"
echo "CA: $dir/ca.crt (copy to every agent as /etc/vigie/ca.crt); broker: $dir/server.crt for $san"
