#!/bin/sh
# Installs (or upgrades) the Vigie agent on a Debian-like box with iputils ping.
# Usage, as root:  install-agent.sh BUNDLE CONFIG CA [UNIT]
#   BUNDLE  vigie-agent.mjs, from the package of `npm run pack:agent -- ARCH` (with its Node.js beside
#           it, in node/) or alone from `npm run build:agent`
#   CONFIG  the school's agents/<UAI>.yaml from `vigie enroll`
#   CA      the CA certificate that signed the broker's (site/tls/ca.crt)
#   UNIT    the systemd unit, default systemd/vigie-agent.service beside this script
# The runtime: the official Node.js build shipped beside the bundle (node/bin/node) goes to
# /opt/vigie/node; without one, the box's own `node` must be a supported line and /opt/vigie/node/bin/node
# links to it. The unit runs /opt/vigie/node/bin/node. A line past its end of life (20 and older: no more
# security fixes) is refused.
# The agent runs as the unprivileged user `vigie` with no capability at all: ping works through the
# kernel's unprivileged ICMP echo sockets, which net.ipv4.ping_group_range opens to the vigie group.
# Such a socket can only send echo requests; CAP_NET_RAW would let the process forge any packet, and
# /bin/ping's own file capability is ignored under systemd's NoNewPrivileges.
set -eu

# Node.js lines: 24 is LTS until 2028-04-30 (recommended), 22 until 2027-04-30 (github.com/nodejs/Release).
MIN_NODE=22
RECOMMENDED_NODE=24

here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 3 ] || { echo "usage: $0 BUNDLE CONFIG CA [UNIT]" >&2; exit 2; }
bundle=$1 config=$2 ca=$3 unit=${4:-$here/systemd/vigie-agent.service}
for f in "$bundle" "$config" "$ca" "$unit"; do
  [ -r "$f" ] || { echo "install-agent: cannot read $f" >&2; exit 2; }
done
[ "$(id -u)" -eq 0 ] || { echo "install-agent: run as root" >&2; exit 2; }
command -v ping >/dev/null || { echo "install-agent: ping is needed (apt install iputils-ping)" >&2; exit 2; }

refuse_node() { # WHAT IS WRONG (English) / (French)
  cat >&2 <<EOT
install-agent: $1
  Get a supported Node.js: install the agent package built on the collector's machine with
  \`npm run pack:agent -- $(uname -m)\`: it ships the official Node.js $RECOMMENDED_NODE for this box
  (x64 or arm64) and this script installs it (see docs/deploy.md, "Node.js on the school's box").
  Or install Node.js $RECOMMENDED_NODE (or $MIN_NODE) yourself. Debian 12's own \`nodejs\` package is Node 18, past its end of life.
install-agent : $2
  Pour un Node.js maintenu : installez le paquet de l'agent fait sur la machine du collecteur par
  \`npm run pack:agent -- $(uname -m)\`, qui contient le Node.js $RECOMMENDED_NODE officiel pour ce boîtier
  (x64 ou arm64) ; ce script l'installe. Ou installez vous-même Node.js $RECOMMENDED_NODE (ou $MIN_NODE).
  Le paquet \`nodejs\` de Debian 12 est Node 18, en fin de vie.
EOT
  exit 2
}
shipped=$(cd "$(dirname "$bundle")" && pwd)/node
if [ -e "$shipped/bin/node" ]; then
  runtime=$shipped/bin/node
else
  runtime=$(command -v node) ||
    refuse_node "no Node.js on this box and none shipped beside $bundle (node/bin/node)." \
      "pas de Node.js sur ce boîtier, ni livré à côté de $bundle (node/bin/node)."
fi
version=$("$runtime" --version 2>/dev/null) ||
  refuse_node "$runtime does not run on this box ($(uname -m)): a package made for another architecture?" \
    "$runtime ne tourne pas sur ce boîtier ($(uname -m)) : un paquet fait pour une autre architecture ?"
major=${version#v}
major=${major%%.*}
[ "$major" -ge "$MIN_NODE" ] 2>/dev/null ||
  refuse_node "Node.js $version ($runtime) is past its end of life: no more security fixes. Vigie needs Node.js $MIN_NODE or newer, $RECOMMENDED_NODE recommended." \
    "Node.js $version ($runtime) est en fin de vie : plus de correctifs de sécurité. Vigie demande Node.js $MIN_NODE ou plus récent, $RECOMMENDED_NODE conseillé."

if ! getent passwd vigie >/dev/null; then
  useradd --system --user-group --home-dir /var/lib/vigie --no-create-home --shell /usr/sbin/nologin vigie
fi
gid=$(getent group vigie | cut -d: -f3)

install -d -o root -g root -m 0755 /opt/vigie /opt/vigie/node /opt/vigie/node/bin
# Replaced by a rename, never written through: the running agent keeps its file, a link is not followed.
if [ "$runtime" = "$shipped/bin/node" ]; then
  install -o root -g root -m 0755 "$runtime" /opt/vigie/node/bin/node.new
  [ ! -r "$shipped/LICENSE" ] || install -o root -g root -m 0644 "$shipped/LICENSE" /opt/vigie/node/LICENSE
  mv -f /opt/vigie/node/bin/node.new /opt/vigie/node/bin/node
else
  ln -sfn "$runtime" /opt/vigie/node/bin/node.new && mv -Tf /opt/vigie/node/bin/node.new /opt/vigie/node/bin/node
fi
echo "install-agent: the agent runs on Node.js $version ($([ "$runtime" = "$shipped/bin/node" ] && echo "shipped with it" || echo "$runtime"))"
node_bin=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
[ -x "$node_bin" ] || { echo "install-agent: the unit runs $node_bin, which is not here (the runtime is /opt/vigie/node/bin/node)" >&2; exit 2; }
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
