#!/bin/sh
# Installs the Debian packages of vendor/packages.txt that are missing. Usage: install.sh SET...
# (SET is build or test). Does nothing when everything is present, so it is cheap on every build.
set -eu
here=$(dirname "$0")
sets=" $* "
missing=""
while read -r set pkg version; do
    case "$set" in ''|'#'*) continue ;; esac
    case "$sets" in *" $set "*) ;; *) continue ;; esac
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    case "$status" in *" installed") continue ;; esac
    missing="$missing $pkg=$version"
done < "$here/packages.txt"
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "reef build: missing packages:$missing" >&2
    echo "reef build: run ./build.sh as root, or install them with apt-get" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "reef build: installing:$missing" >&2
apt-get update -qq >&2
# shellcheck disable=SC2086
if ! apt-get install -y -qq --no-install-recommends $missing >&2; then
    # The pinned version is gone from the archive (replaced by an update): take the candidate.
    plain=$(echo "$missing" | sed 's/=[^ ]*//g')
    echo "reef build: pinned versions unavailable, installing candidates:$plain" >&2
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $plain >&2
fi
