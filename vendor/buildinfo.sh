#!/bin/sh
# Prints build/gen/buildinfo.h: reef's version, the git commit and the build time.
here=$(dirname "$0")
version=$(cat "$here/../VERSION")
commit=$(git -C "$here/.." rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$here/.." status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    commit="$commit-dirty"
fi
date=$(date -u ${SOURCE_DATE_EPOCH:+-d @$SOURCE_DATE_EPOCH} +%Y-%m-%dT%H:%M:%SZ)
jsmn=$(dpkg-query -W -f='${Version}' libjsmn-dev 2>/dev/null | sed 's/-[^-]*$//')
cat <<EOT
#define REEF_VERSION "$version"
#define REEF_COMMIT "$commit"
#define REEF_BUILD_DATE "$date"
#define REEF_JSMN_VERSION "${jsmn:-unknown}"
EOT
