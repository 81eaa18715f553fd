#!/bin/sh
# Installs (or upgrades) the Vigie agent on a Debian-like box with Node >= 20 and iputils ping.
# Usage, as root:  deploy/install-agent.sh BUNDLE CONFIG CA [UNIT]
#   BUNDLE  dist/vigie-agent.mjs from `npm run build:agent`
#   CONFIG  the school's agents/<UAI>.yaml from `vigie enroll`
#   CA      the CA certificate that signed the broker's (site/tls/ca.crt)
#   UNIT    the systemd unit, default deploy/systemd/vigie-agent.service beside this script
# The agent runs as the unprivileged user `vigie` with no capability at all: ping works through the
# kernel's unprivileged ICMP echo sockets, which net.ipv4.ping_group_range opens to the vigie group.
# Such a socket can only send echo requests; CAP_NET_RAW would let the process forge any packet, and
# /bin/ping's own file capability is ignored under systemd's NoNewPrivileges.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 3 ] || { echo "usage: $0 BUNDLE CONFIG CA [UNIT]" >&2; exit 2; }
bundle=$1 config=$2 ca=$3 unit=${4:-$here/systemd/vigie-agent.service}
for f in "$bundle" "$config" "$ca" "$unit"; do
  [ -r "$f" ] || { echo "install-agent: cannot read $f" >&2; exit 2; }
done
[ "$(id -u)" -eq 0 ] || { echo "install-agent: run as root" >&2; exit 2; }
command -v node >/dev/null || { echo "install-agent: Node.js >= 20 is needed (apt install nodejs)" >&2; exit 2; }
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
  { echo "install-agent: Node.js >= 20 is needed, found $(node --version)" >&2; exit 2; }
command -v ping >/dev/null || { echo "install-agent: ping is needed (apt install iputils-ping)" >&2; exit 2; }
node_bin=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
[ -x "$node_bin" ] || { echo "install-agent: the unit runs $node_bin, which is not here (link it to $(command -v node))" >&2; exit 2; }

if ! getent passwd vigie >/dev/null; then
  useradd --system --user-group --home-dir /var/lib/vigie --no-create-home --shell /usr/sbin/nologin vigie
fi
gid=$(getent group vigie | cut -d: -f3)

install -d -o root -g root -m 0755 /opt/vigie
install -o root -g root -m 0644 "$bundle" /opt/vigie/vigie-agent.mjs
# Root owns the config; the agent reads it through its group and cannot change it.
install -d -o root -g vigie -m 0750 /etc/vigie
install -o root -g vigie -m 0640 "$config" /etc/vigie/agent.yaml
install -o root -g root -m 0644 "$ca" /etc/vigie/ca.crt
install -d -o vigie -g vigie -m 0750 /var/lib/vigie /var/lib/vigie/spool

# Unprivileged ping for the vigie group, unless the current range already covers it
# (systemd >= 243 opens it to every group by default).
range=$(sysctl -n net.ipv4.ping_group_range | tr -s ' \t' '  ')
lo=${range% *} hi=${range#* }
if [ "$gid" -lt "$lo" ] || [ "$gid" -gt "$hi" ]; then
  if [ "$lo" -le "$hi" ]; then
    # Another range is in use: widen it to take vigie in rather than shut others out.
    [ "$gid" -lt "$lo" ] && lo=$gid
    [ "$gid" -gt "$hi" ] && hi=$gid
  else
    lo=$gid hi=$gid
  fi
  echo "net.ipv4.ping_group_range = $lo $hi" >/etc/sysctl.d/60-vigie-ping.conf
  sysctl -q -w "net.ipv4.ping_group_range=$lo $hi"
fi

# The config must load before the service starts (as the agent will read it: as vigie).
runuser -u vigie -- "$node_bin" /opt/vigie/vigie-agent.mjs config check /etc/vigie/agent.yaml

install -o root -g root -m 0644 "$unit" /etc/systemd/system/vigie-agent.service
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable vigie-agent.service
  systemctl restart vigie-agent.service
  echo "vigie-agent installed and started: journalctl -u vigie-agent -f"
else
  echo "vigie-agent installed; systemd is not running here, start it with: systemctl enable --now vigie-agent"
fi
