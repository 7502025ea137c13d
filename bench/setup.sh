#!/bin/sh
# Installs the native peers, wrk and strace (the syscalls-per-request phase) from Debian's packages
# when they are missing (npm run bench:setup).
# As root; services are never started by the packages (policy-rc.d answers 101, "action forbidden",
# see /usr/share/doc/init-system-helpers/README.policy-rc.d), because the bench runs its own
# foreground instances on loopback ports.
set -eu

missing=""
[ -x /usr/sbin/nginx ] || missing="$missing nginx"
[ -x /usr/sbin/haproxy ] || missing="$missing haproxy"
[ -x /usr/bin/wrk ] || missing="$missing wrk"
[ -x /usr/bin/redis-server ] || missing="$missing redis-server"
[ -x /usr/bin/strace ] || missing="$missing strace"

if [ -z "$missing" ]; then
  echo "bench setup: nginx, haproxy, wrk, redis-server and strace are installed"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "bench setup: missing:$missing; run as root to install them" >&2
  exit 1
fi

policy=/usr/sbin/policy-rc.d
created_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  created_policy=1
fi
cleanup() { if [ -n "$created_policy" ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $missing
echo "bench setup: installed$missing"
