# Samba AD DC forests, one per loopback address (see shared/notes/samba-ad-dc.md for the recipe).
# shellcheck shell=bash

FORESTS_DIR="$STATE_DIR/forests"

# forest_vars KEY: sets F_KEY F_REALM F_NETBIOS F_IP F_HOST F_DIR F_BASE F_CONF
forest_vars() {
  local entry
  for entry in "${FORESTS[@]}"; do
    IFS='|' read -r F_KEY F_REALM F_NETBIOS F_IP F_HOST <<< "$entry"
    if [ "$F_KEY" = "$1" ]; then
      F_DIR="$FORESTS_DIR/$F_KEY"
      F_BASE="DC=${F_REALM//./,DC=}"
      F_CONF="$F_DIR/dc/etc/smb.conf"
      return 0
    fi
  done
  die "unknown forest '$1' (known: $(forest_keys | tr '\n' ' '))"
}
forest_keys() { local e; for e in "${FORESTS[@]}"; do echo "${e%%|*}"; done; }

samba_ensure_installed() {
  ensure_apt samba samba samba-ad-dc samba-ad-provision samba-dsdb-modules samba-vfs-modules winbind krb5-user
  ensure_apt samba-tool samba-ad-dc
  ensure_apt ldapsearch ldap-utils
  ensure_apt openssl openssl
  ensure_apt ip iproute2
}

ensure_loopback_ip() { # ip
  if [[ "$(ip -4 -o addr show dev lo)" != *"inet $1/"* ]]; then
    ip addr add "$1/32" dev lo 2>/dev/null || die "cannot add $1/32 to lo (needs root / CAP_NET_ADMIN)"
  fi
}

# A strong password that meets AD complexity (upper, lower, digit, symbol); never printed.
gen_password() { printf 'Cy-%s-%s9!' "$(openssl rand -hex 10)" "$(openssl rand -base64 6 | tr -dc 'A-Za-z' | head -c 4)Q"; }
write_secret() { (umask 077; printf '%s' "$2" > "$1"); chmod 600 "$1"; }

# Own CA + server certificate: SANs carry the DC's IP and names, so clients verify the chain AND
# the host name when they connect to ldaps://127.0.0.N (Samba's self-made cert names only the host).
_forest_make_tls() {
  local tls="$F_DIR/tls"
  mkdir -p "$tls"; chmod 700 "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -sha256 \
    -keyout "$tls/ca.key" -out "$tls/ca.pem" -subj "/O=Canopy local stack/CN=Canopy test CA $F_REALM" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$tls/key.pem" -out "$tls/server.csr" \
    -subj "/O=Canopy local stack/CN=$F_HOST.$F_REALM" >/dev/null 2>&1
  printf 'subjectAltName=IP:%s,DNS:%s.%s,DNS:%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=CA:FALSE\n' \
    "$F_IP" "$F_HOST" "$F_REALM" "$F_REALM" > "$tls/server.ext"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
    -days 3650 -sha256 -extfile "$tls/server.ext" -out "$tls/cert.pem" >/dev/null 2>&1 \
    || die "openssl could not sign the $F_KEY server certificate"
  chmod 600 "$tls/key.pem" "$tls/ca.key"
  cp "$tls/ca.pem" "$F_DIR/ca.pem"; chmod 644 "$F_DIR/ca.pem"
}

_samba_tool() { samba-tool "$@" -s "$F_CONF" -H "tdb://$F_DIR/dc/private/sam.ldb"; }

# Provision a fresh DC for forest $1 (stopped). ~10 s.
forest_provision() {
  forest_vars "$1"
  local t; t=$(now_ms)
  rm -rf "$F_DIR"; mkdir -p "$F_DIR"; chmod 700 "$F_DIR"
  local adminpass svcpass
  adminpass=$(gen_password); svcpass=$(gen_password)
  write_secret "$F_DIR/admin.password" "$adminpass"
  write_secret "$F_DIR/sync.password" "$svcpass"
  log "$F_KEY: provisioning $F_REALM ($F_NETBIOS) on $F_IP ..."
  samba-tool domain provision --realm="${F_REALM^^}" --domain="$F_NETBIOS" --server-role=dc \
    --dns-backend=NONE --use-rfc2307 --adminpass="$adminpass" --targetdir="$F_DIR/dc" \
    --backend-store="${CANOPY_SAMBA_BACKEND:-mdb}" \
    --host-name="$F_HOST" --host-ip="$F_IP" \
    --option="interfaces=$F_IP" --option="bind interfaces only=yes" >"$F_DIR/provision.log" 2>&1 \
    || fail_with_log "$F_KEY: samba-tool domain provision failed" "$F_DIR/provision.log"
  _forest_make_tls
  # provision does not keep every --option: write [global] ourselves.
  python3 - "$F_CONF" "$F_IP" "$F_DIR/tls" "$F_DIR/dc/var/run" <<'PY'
import re, sys
conf, ip, tls, piddir = sys.argv[1:5]
text = open(conf).read()
extra = f"""
	interfaces = {ip}
	bind interfaces only = yes
	server services = ldap, cldap, kdc, rpc, drepl
	pid directory = {piddir}
	ldap server require strong auth = no
	tls enabled = yes
	tls keyfile = {tls}/key.pem
	tls certfile = {tls}/cert.pem
	tls cafile = {tls}/ca.pem
	# Test stack: skip fsync on every ldb transaction (seeding is ~several x faster).
	ldb:nosync = true
	log level = 1
	max log size = 10000
"""
lines = [l for l in text.splitlines() if not re.match(r"\s*(interfaces|bind interfaces only|server services|pid directory|tls .*|ldb:nosync)\s*=", l)]
out = []
for l in lines:
    out.append(l)
    if l.strip().lower() == "[global]":
        out.append(extra.rstrip())
open(conf, "w").write("\n".join(out) + "\n")
PY
  # Least-privilege sync account: an ordinary user plus "Replicating Directory Changes"
  # (DS-Replication-Get-Changes, 1131f6aa-9c07-11d1-f79f-00c04fc2dcd2) on the domain NC head.
  _samba_tool user create svc-canopy "$svcpass" --use-username-as-cn \
    --description="Canopy directory sync (least privilege: Replicating Directory Changes only)" \
    >>"$F_DIR/provision.log" 2>&1 || fail_with_log "$F_KEY: creating svc-canopy failed" "$F_DIR/provision.log"
  _samba_tool user setexpiry svc-canopy --noexpiry >>"$F_DIR/provision.log" 2>&1 || true
  local sid
  sid=$(_samba_tool user show svc-canopy --attributes=objectSid 2>>"$F_DIR/provision.log" | awk '/^objectSid:/{print $2}')
  [ -n "$sid" ] || fail_with_log "$F_KEY: cannot read svc-canopy objectSid" "$F_DIR/provision.log"
  _samba_tool dsacl set --objectdn="$F_BASE" --sddl="(OA;;CR;1131f6aa-9c07-11d1-f79f-00c04fc2dcd2;;$sid)" \
    >>"$F_DIR/provision.log" 2>&1 || fail_with_log "$F_KEY: dsacl set failed" "$F_DIR/provision.log"
  echo "$sid" > "$F_DIR/sync.sid"
  forest_grant_deleted_objects
  touch "$F_DIR/.provisioned"
  log "$F_KEY: provisioned in $(secs_since "$t") s"
}

forest_pidfile() { echo "$FORESTS_DIR/$1/samba.pid"; }
forest_running() { pid_alive "$(forest_pidfile "$1")"; }

# LDAPS answers with a verified certificate and a simple bind as the sync account works.
forest_ldaps_ok() { # key
  forest_vars "$1"
  LDAPTLS_CACERT="$F_DIR/ca.pem" LDAPTLS_REQCERT=demand ldapsearch -x -H "ldaps://$F_IP:636" -o nettimeout=3 \
    -D "svc-canopy@$F_REALM" -y "$F_DIR/sync.password" -b "$F_BASE" -s base dn >/dev/null 2>&1
}

forest_start() { # key
  forest_vars "$1"
  local key=$1
  if forest_running "$key" && forest_ldaps_ok "$key"; then return 0; fi
  forest_running "$key" && forest_stop "$key"
  ensure_loopback_ip "$F_IP"
  ensure_port_free "$F_IP" 636 "samba $key"
  ensure_port_free "$F_IP" 389 "samba $key"
  mkdir -p "$F_DIR/dc/var/run" "$F_DIR/logs"
  # One LDAP worker: Samba announces a change at once only to notification searches held in the
  # worker that made it (the others wait up to 5 s), so the AD reader's notifications need one.
  if ! grep -q '^\s*prefork children\s*=' "$F_CONF"; then
    sed -i 's/^\[global\]$/[global]\n\tprefork children = 1/' "$F_CONF"
  fi
  : > "$F_DIR/samba.log"
  start_detached "$(forest_pidfile "$key")" "$F_DIR/samba.log" \
    samba -s "$F_CONF" -i -M "${CANOPY_SAMBA_MODEL:-prefork}" --debug-stdout
  local rc=0
  wait_for 60 "samba $key" "$(forest_pidfile "$key")" forest_ldaps_ok "$key" || rc=$?
  if [ $rc != 0 ]; then
    stop_pidfile "$(forest_pidfile "$key")" "samba $key"
    fail_with_log "$key: Samba did not answer LDAPS on $F_IP:636 as svc-canopy" "$F_DIR/samba.log"
  fi
}

forest_stop() { stop_pidfile "$(forest_pidfile "$1")" "samba $1"; }

forest_up() { # key
  forest_vars "$1"
  local key=$1
  if forest_running "$key" && forest_ldaps_ok "$key"; then log "$key: already running"; forest_grant_deleted_objects; return 0; fi
  samba_ensure_installed
  if [ ! -f "$F_DIR/.provisioned" ]; then
    forest_running "$key" && forest_stop "$key"
    forest_provision "$key"
  fi
  forest_grant_deleted_objects
  forest_start "$key"
}

# Samba (unlike Windows AD) hides tombstones from DirSync unless the sync account may list and
# read CN=Deleted Objects: grant List Contents + Read Property there (idempotent; samba-tool
# dsacl cannot reach that container, so Samba's Python bindings do it, with Debian's python3).
forest_grant_deleted_objects() {
  local sid
  sid=$(cat "$F_DIR/sync.sid" 2>/dev/null) || return 0
  /usr/bin/python3 "$STACK_ROOT/lib/grant-deleted-objects.py" "$F_DIR/dc/etc/smb.conf" "tdb://$F_DIR/dc/private/sam.ldb" "$F_BASE" "$sid" \
    >>"$F_DIR/provision.log" 2>&1 || fail_with_log "$F_KEY: granting the sync account read access to CN=Deleted Objects failed" "$F_DIR/provision.log"
}

forest_wipe() { forest_stop "$1"; rm -rf "${FORESTS_DIR:?}/$1"; }
