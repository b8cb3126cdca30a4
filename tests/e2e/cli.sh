# End-to-end: the binary itself and its command-line conventions.
. "$(dirname "$0")/lib.sh"

t "binary is statically linked" sh -c 'file "$REEF" | grep -q "statically linked"'
t "ldd says not a dynamic executable" sh -c '! ldd "$REEF" 2>&1 | grep -q "=>"'
t "binary is stripped" sh -c 'file "$REEF" | grep -q ", stripped"'
t "--help lists commands" sh -c '"$REEF" --help | grep -q "^  version "'
t "help exits 0" "$REEF" --help
t_expect_rc 2 "no command exits 2" "$REEF"
t_expect_rc 2 "unknown command exits 2" "$REEF" frobnicate
t "unknown command is named" sh -c '"$REEF" frobnicate 2>&1 | grep -q "unknown command .frobnicate."'
t_expect_rc 2 "unknown global flag exits 2" "$REEF" --frobnicate
t_expect_rc 2 "unknown command flag exits 2" "$REEF" version --frobnicate
t "unknown flag prints a usage line" sh -c '"$REEF" version --frobnicate 2>&1 | grep -q "^usage: reef version"'
t_expect_rc 2 "stray argument exits 2" "$REEF" version extra
t "command --help" sh -c '"$REEF" version --help | grep -q "^usage: reef version"'
t "help COMMAND" sh -c '"$REEF" help version | grep -q "^usage: reef version"'
t "every listed command has --help" sh -c '
    for c in $("$REEF" --help | sed -n "s/^  \([a-z-]*\) .*/\1/p"); do
        "$REEF" "$c" --help | grep -q "^usage: reef $c" || { echo "no help for $c"; exit 1; }
    done'
t "version names reef and every library" sh -c '
    out=$("$REEF" version)
    for lib in sqlite3 libuv mbedtls libarchive libseccomp libyaml jsmn zstd zlib commit built; do
        echo "$out" | grep -Eq "^  $lib: +[0-9a-z]" || { echo "missing $lib in: $out"; exit 1; }
    done
    echo "$out" | head -1 | grep -Eq "^reef [0-9]+\.[0-9]+\.[0-9]+$"'
t "version --short" sh -c '"$REEF" version --short | grep -Eq "^[0-9]+\.[0-9]+\.[0-9]+$"'
t "--version is version" sh -c '[ "$("$REEF" --version | head -1)" = "$("$REEF" version | head -1)" ]'
t "library versions match the linked packages" sh -c '
    v=$(dpkg-query -W -f="\${Version}" libsqlite3-dev | cut -d- -f1)
    "$REEF" version | grep -q "sqlite3: *$v$"'
