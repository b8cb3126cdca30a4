# Sourced by tests that need an OCI registry: Debian's docker-registry (the CNCF distribution
# registry) on 127.0.0.1 only, started and stopped by PID.
#   registry_start DIR [PORT] [tls CERT KEY] [htpasswd FILE] [token REALM SERVICE ISSUER CERTBUNDLE]
#       starts it with storage under DIR; sets REGISTRY_PID and REGISTRY_ADDR (127.0.0.1:PORT);
#       PORT 0 or absent picks a free port.
#   registry_stop   stops it (also safe when it never started)
#   registry_push OCI_LAYOUT NAME:TAG [skopeo options]   pushes one image with skopeo (plain HTTP)
#   registry_test_pki DIR   a test CA (ca.crt), a certificate for 127.0.0.1 (srv.crt, srv.key)
#       and an htpasswd file with user reef, password s3cret, in DIR
registry_free_port() {
    local p
    for _ in $(seq 1 50); do
        # below the ephemeral range (32768-60999), where outgoing connections take ports
        p=$((20000 + RANDOM % 12000))
        ! ss -Htln "sport = :$p" | grep -q . && { echo "$p"; return 0; }
    done
    return 1
}

registry_start() {
    local attempt
    # A port found free can still be taken before the registry binds it: try a few.
    for attempt in 1 2 3 4 5; do
        registry_start_once "$@" && return 0
        grep -q "address already in use" "$1/registry.log" 2> /dev/null || return 1
    done
    return 1
}

registry_start_once() {
    local dir=$1 port=${2:-0} tlsblock="" authblock=""
    shift 2 || shift $#
    while [ $# -gt 0 ]; do
        case "$1" in
        tls) tlsblock=$(printf '  tls:\n    certificate: %s\n    key: %s\n' "$2" "$3"); shift 3 ;;
        htpasswd) authblock=$(printf 'auth:\n  htpasswd:\n    realm: reef-test\n    path: %s\n' "$2"); shift 2 ;;
        token) authblock=$(printf 'auth:\n  token:\n    realm: %s\n    service: %s\n    issuer: %s\n    rootcertbundle: %s\n' "$2" "$3" "$4" "$5"); shift 5 ;;
        *) echo "registry_start: unknown option $1" >&2; return 1 ;;
        esac
    done
    [ "$port" = 0 ] && port=$(registry_free_port)
    mkdir -p "$dir/storage"
    cat > "$dir/config.yml" <<EOT
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
$tlsblock
$authblock
EOT
    docker-registry serve "$dir/config.yml" > "$dir/registry.log" 2>&1 &
    REGISTRY_PID=$!
    REGISTRY_ADDR=127.0.0.1:$port
    local scheme=http
    [ -n "$tlsblock" ] && scheme=https
    for _ in $(seq 1 100); do
        if curl -sk -o /dev/null "$scheme://$REGISTRY_ADDR/v2/"; then
            return 0
        fi
        kill -0 "$REGISTRY_PID" 2> /dev/null || break
        sleep 0.1
    done
    echo "registry did not start:" >&2
    cat "$dir/registry.log" >&2
    registry_stop
    return 1
}

registry_stop() {
    if [ -n "${REGISTRY_PID:-}" ]; then
        kill "$REGISTRY_PID" 2> /dev/null
        wait "$REGISTRY_PID" 2> /dev/null
        REGISTRY_PID=""
    fi
}

registry_push() {
    local layout=$1 ref=$2
    shift 2
    skopeo --insecure-policy copy -q --all --dest-tls-verify=false "$@" \
        "oci:$layout:latest" "docker://$REGISTRY_ADDR/$ref"
}

registry_test_pki() {
    mkdir -p "$1" &&
        (
            cd "$1" &&
                openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=reef-test-ca &&
                openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 &&
                printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > ext &&
                openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 -extfile ext &&
                htpasswd -Bbn reef s3cret > htpasswd
        ) > /dev/null 2>&1
}
