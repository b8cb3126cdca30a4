# Sourced by every end-to-end test. Provides:
#   t NAME CMD...      run one check: `ok - NAME` when CMD exits 0, else `not ok - NAME` with its output
#   t_skip NAME WHY    a skipped check, saying why on its own line
#   t_expect_rc RC NAME CMD...   like t, but CMD must exit with status RC
#   defer CMD...       run CMD when the test script exits, however it exits (last in, first out)
#   tmpdir VAR         a fresh directory, removed at exit, its path put in VAR (not $(tmpdir):
#                      a command substitution is a subshell, and its defer would be lost)
# $REEF is the binary under test; every test prints only ok / not ok / skip lines and # comments.
set -u
: "${REEF:?REEF must point at the reef binary}"
t_out=$(mktemp)
t_deferred=()
t_cleanup() {
    local i
    for ((i = ${#t_deferred[@]} - 1; i >= 0; i--)); do
        eval "${t_deferred[$i]}" > /dev/null 2>&1 || true
    done
    rm -f "$t_out"
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM

defer() { t_deferred+=("$*"); }

tmpdir() {
    local d
    d=$(mktemp -d "${TMPDIR:-/tmp}/reef-e2e.XXXXXX")
    defer rm -rf "$d"
    printf -v "$1" '%s' "$d"
}

t() {
    local name=$1
    shift
    if "$@" > "$t_out" 2>&1; then
        echo "ok - $name"
    else
        echo "not ok - $name"
        sed 's/^/#   /' "$t_out" | head -40
    fi
}

t_expect_rc() {
    local want=$1 name=$2 rc
    shift 2
    "$@" > "$t_out" 2>&1
    rc=$?
    if [ "$rc" = "$want" ]; then
        echo "ok - $name"
    else
        echo "not ok - $name (exit $rc, wanted $want)"
        sed 's/^/#   /' "$t_out" | head -40
    fi
}

t_skip() {
    echo "# skip: $2"
    echo "skip - $1"
}
