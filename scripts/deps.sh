#!/bin/sh
# Installs, idempotently, every Debian package that building jitd, its tests
# and `make run` need.  Safe to run repeatedly; does nothing when all are
# already present.  Needs root (or sudo) only when something is missing.
set -eu

# libpq-dev builds jitd's PostgreSQL store; postgresql brings the server
# binaries (/usr/lib/postgresql/*/bin/initdb, postgres) with which tests
# start their own throwaway cluster (tests/lib/pgfix.h).
PKGS="build-essential pkg-config clang
libclang-rt-14-dev
libssl-dev libssh-dev libmicrohttpd-dev libjansson-dev libsodium-dev
libsqlite3-dev libcurl4-openssl-dev check libpq-dev postgresql
openssh-server openssh-client openssl sqlite3 curl ca-certificates
procps psmisc util-linux python3 oathtool
chromium
groff-base systemd"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done

# The web page's browser test drives chromium with playwright-core from
# npm (installed by the test under build/web-node); it needs node and npm.
# A node that comes with its own npm (e.g. nodesource) is left alone.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	missing="$missing nodejs npm"
fi

[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "deps: missing packages:$missing (run as root to install)" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
