# End-to-end: the real kubectl 1.32 against `reef server` on 127.0.0.1 with a temporary data
# directory. Certificates come from the openssl command line; kubectl and openssl are required.
. "$(dirname "$0")/lib.sh"

KUBECTL=${KUBECTL:-kubectl}
if ! command -v "$KUBECTL" > /dev/null 2>&1 || ! command -v openssl > /dev/null 2>&1; then
    echo "not ok - kubectl and openssl are installed"
    exit 1
fi

tmpdir D
cd "$D" || exit 1

# ---- certificates: a CA, the server (IP SAN 127.0.0.1), an admin client (system:masters) ----
mkcerts() {
    set -e
    openssl ecparam -name prime256v1 -genkey -noout -out ca.key
    openssl req -x509 -new -key ca.key -subj "/CN=reef-e2e-ca" -days 2 -out ca.crt
    openssl ecparam -name prime256v1 -genkey -noout -out server.key
    openssl req -new -key server.key -subj "/CN=reef-server" -out server.csr
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
        -extfile server.ext -out server.crt
    openssl ecparam -name prime256v1 -genkey -noout -out admin.key
    openssl req -new -key admin.key -subj "/O=system:masters/CN=system:admin" -out admin.csr
    printf 'extendedKeyUsage=clientAuth\n' > admin.ext
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
        -extfile admin.ext -out admin.crt
    echo 's3cr3t-token,tokenuser,1000,"system:masters"' > tokens.csv
}
t "certificates made with openssl" mkcerts

# Ports below the ephemeral range (32768+), so no outgoing connection holds them; one that
# something listens on is skipped.
free_port() {
    local p i
    for i in $(seq 1 50); do
        p=$((20000 + RANDOM % 12000))
        if ! (exec 3<> "/dev/tcp/127.0.0.1/$p") 2> /dev/null &&
            ! (exec 3<> "/dev/tcp/127.0.0.1/$((p + 1))") 2> /dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}
PORT=$(free_port)
kubeconfig() { # FILE USER-YAML
    cat > "$1" << EOF
apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: $(base64 -w0 ca.crt)
    server: https://127.0.0.1:$PORT
  name: reef
users:
- name: u
  user:
$2
contexts:
- context: {cluster: reef, user: u}
  name: reef
current-context: reef
EOF
}
kubeconfig admin.kubeconfig "    client-certificate-data: $(base64 -w0 admin.crt)
    client-key-data: $(base64 -w0 admin.key)"
kubeconfig token.kubeconfig "    token: s3cr3t-token"
kubeconfig bad.kubeconfig "    token: wrong-token"

K() { "$KUBECTL" --kubeconfig "$D/admin.kubeconfig" --cache-dir "$D/cache" "$@"; }
KT() { "$KUBECTL" --kubeconfig "$D/token.kubeconfig" --cache-dir "$D/cache-token" "$@" < /dev/null; }
KB() { "$KUBECTL" --kubeconfig "$D/bad.kubeconfig" --cache-dir "$D/cache-bad" "$@" < /dev/null; }

SERVER_PID=
start_server() {
    "$REEF" server --data-dir "$D/data" --bind-address 127.0.0.1 --https-listen-port "$PORT" \
        --tls-cert-file server.crt --tls-private-key-file server.key --client-ca-file ca.crt \
        --token-auth-file tokens.csv --disable-agent > "$D/server.log" 2>&1 &
    SERVER_PID=$!
    local i
    for i in $(seq 1 100); do
        if K get --raw /readyz > /dev/null 2>&1; then
            return 0
        fi
        sleep 0.02
    done
    cat "$D/server.log"
    return 1
}
stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    local rc
    kill "$SERVER_PID" 2> /dev/null
    wait "$SERVER_PID" 2> /dev/null
    rc=$?
    SERVER_PID=
    return $rc
}
defer stop_server

started() {
    local t0 t1
    t0=$(date +%s%N)
    start_server || return 1
    t1=$(date +%s%N)
    echo "started in $(((t1 - t0) / 1000000)) ms"
    [ $(((t1 - t0) / 1000000)) -lt 1000 ]
}
t "reef server starts and is ready in under a second" started

# grep for a fixed string in a command's output, printing the output when it is missing
has() { # STRING CMD...
    local s=$1 out
    shift
    out=$("$@" 2>&1)
    if ! printf '%s\n' "$out" | grep -qF -- "$s"; then
        printf 'wanted: %s\ngot:\n%s\n' "$s" "$out"
        return 1
    fi
}
# the command fails and says STRING
fails_with() { # STRING CMD...
    local s=$1 out
    shift
    if out=$("$@" 2>&1); then
        printf 'succeeded:\n%s\n' "$out"
        return 1
    fi
    if ! printf '%s\n' "$out" | grep -qF -- "$s"; then
        printf 'wanted: %s\ngot:\n%s\n' "$s" "$out"
        return 1
    fi
}

t "version reports 1.32" has "Server Version: v1.32" K version
t "get namespaces" has "kube-system" K get ns
t "get all kinds" K get pods,services,deployments,replicasets,configmaps,secrets,events,endpoints,nodes,namespaces,leases,endpointslices -A
t "api-resources lists short names" has "deploy" K api-resources

cat > app.yaml << 'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  labels: {app: web}
data:
  greeting: hello
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports:
        - containerPort: 80
        env:
        - {name: A, value: "1"}
        - {name: B, value: "2"}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web}
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 80
EOF
sed -e 's/value: "1"/value: "changed"/' -e 's/port: 80$/port: 8080/' app.yaml > app2.yaml

t "apply creates" has "deployment.apps/web created" K apply -f app.yaml
t "apply again is unchanged" has "deployment.apps/web unchanged" K apply -f app.yaml
t "apply again: configmap unchanged" has "configmap/web-config unchanged" K apply -f app.yaml
t "changed manifest is configured" has "deployment.apps/web configured" K apply -f app2.yaml
t "the change arrived" has '"value":"changed"' K get deploy web -o jsonpath='{.spec.template.spec.containers[0].env}'
t "the other env var stayed" has '{"name":"B","value":"2"}' K get deploy web -o jsonpath='{.spec.template.spec.containers[0].env}'
t "service port changed" has "8080" K get svc web -o jsonpath='{.spec.ports[*].port}'
t "original manifest is configured again" has "deployment.apps/web configured" K apply -f app.yaml
t "and then unchanged" has "service/web unchanged" K apply -f app.yaml
t "service has a cluster IP" has "10.43." K get svc web -o jsonpath='{.spec.clusterIP}'
t "get -A shows the namespace" has "default     web" K get deploy -A
t "get -o wide" K get deploy,svc -o wide
t "get --show-labels" has "app=web" K get cm web-config --show-labels
t "get -l selects" has "web-config" K get cm -l app=web
excludes() { ! K get cm -l app=other 2>&1 | grep -q web-config; }
t "get -l excludes" excludes
t "get -o yaml" has "kind: Deployment" K get deploy web -o yaml
t "get -o name" has "deployment.apps/web" K get deploy -o name
t "apply --server-side" has "serverside-applied" K apply --server-side -f app.yaml
t "scale" has "scaled" K scale deploy web --replicas=3
t "scale arrived" has "3" K get deploy web -o jsonpath='{.spec.replicas}'
t "label" has "labeled" K label deploy web color=blue
t "annotate" has "annotated" K annotate deploy web note=hi
t "patch --type=merge" has "patched" K patch deploy web --type=merge -p '{"spec":{"replicas":4}}'
t "patch --type=json" has "patched" K patch deploy web --type=json -p '[{"op":"replace","path":"/spec/replicas","value":5}]'
t "patch --type=strategic" has "patched" K patch deploy web -p '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.28"}]}}}}'
t "patched image" has "nginx:1.28" K get deploy web -o jsonpath='{.spec.template.spec.containers[0].image}'

# kubectl edit: the "editor" is a script that changes one field of what kubectl hands it.
cat > "$D/editor.sh" << 'EOS'
#!/bin/sh
sed -i 's/nginx:1.28/nginx:1.29/' "$1"
EOS
chmod +x "$D/editor.sh"
t "edit with EDITOR" has "edited" env EDITOR="$D/editor.sh" KUBE_EDITOR="$D/editor.sh" "$KUBECTL" --kubeconfig "$D/admin.kubeconfig" --cache-dir "$D/cache" edit deploy web
t "the edit arrived" has "nginx:1.29" K get deploy web -o jsonpath='{.spec.template.spec.containers[0].image}'

t "apply --dry-run=server" has "configmap/dry created (server dry run)" K create configmap dry --from-literal=a=b --dry-run=server
t "a dry run writes nothing" fails_with "NotFound" K get cm dry
diff_shows() { K diff -f app2.yaml > diff.out 2>&1; [ $? = 1 ] && grep -q '^+.*changed' diff.out || { cat diff.out; return 1; }; }
t "kubectl diff shows the change" diff_shows

# imperative create: kubectl's typed clients send protobuf
t "create configmap" has "configmap/imp created" K create configmap imp --from-literal=k=v
t "create configmap arrived" has '{"k":"v"}' K get cm imp -o jsonpath='{.data}'
t "create secret generic" has "secret/imp created" K create secret generic imp --from-literal=pw=hunter2
t "create namespace" has "namespace/imp created" K create namespace imp
t "create deployment" has "deployment.apps/imp created" K create deployment imp --image=nginx:1.27 --port=80 -r 0
t "create deployment keeps replicas 0" has "0" K get deploy imp -o jsonpath='{.spec.replicas}'
t "create service nodeport" has "service/imp created" K create service nodeport imp --tcp=80:8080 --node-port=30080
t "node port kept" has "30080" K get svc imp -o jsonpath='{.spec.ports[0].nodePort}'
t "run a pod" has "pod/imp created" K run imp --image=busybox -- sleep 1
t "delete namespace" has 'namespace "imp" deleted' K delete namespace imp

# legacy discovery, as kubectl 1.27-1.29 use it
OLD_KUBECTL=/usr/lib/google-cloud-sdk/bin/kubectl.1.28
if [ -x "$OLD_KUBECTL" ]; then
    t "kubectl 1.28 (legacy discovery) lists deployments" has "web" \
        "$OLD_KUBECTL" --kubeconfig "$D/admin.kubeconfig" --cache-dir "$D/cache-128" get deploy
else
    t_skip "kubectl 1.28 (legacy discovery)" "$OLD_KUBECTL is not installed"
fi

# errors, as kubectl prints them
t "404 NotFound" fails_with 'Error from server (NotFound): deployments.apps "nosuch" not found' K get deploy nosuch
t "409 AlreadyExists" fails_with 'Error from server (AlreadyExists): error when creating "app.yaml": configmaps "web-config" already exists' K create -f app.yaml
cat > bad.yaml << 'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: Web_Bad}
spec:
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec: {containers: [{name: c, image: nginx}]}
EOF
t "422 Invalid" fails_with 'The Deployment "Web_Bad" is invalid: metadata.name: Invalid value: "Web_Bad": a lowercase RFC 1123 subdomain' K apply -f bad.yaml
cat > strict.yaml << 'EOF'
apiVersion: v1
kind: ConfigMap
metadata: {name: strict}
dta: {a: b}
EOF
t "unknown field under Strict" fails_with 'unknown field "dta"' K apply -f strict.yaml

# authentication
t "a certificate user (CN system:admin, O system:masters)" has "kube-system" K get ns
t "a token user" has "kube-system" KT get ns
t "unauthenticated request rejected" fails_with "You must be logged in to the server" KB get ns

# watch
watch_events() {
    K get cm -w --output-watch-events > watch.out 2>&1 &
    local w=$!
    sleep 1
    cat > w.yaml << 'EOF'
apiVersion: v1
kind: ConfigMap
metadata: {name: watched}
data: {a: "1"}
EOF
    K apply -f w.yaml > /dev/null
    K patch cm watched --type=merge -p '{"data":{"a":"2"}}' > /dev/null
    K delete cm watched > /dev/null
    sleep 1
    kill "$w"
    wait "$w" 2> /dev/null
    cat watch.out
    grep -q "ADDED.*watched" watch.out && grep -q "MODIFIED.*watched" watch.out &&
        grep -q "DELETED.*watched" watch.out
}
t "get -w sees ADDED, MODIFIED, DELETED" watch_events

t "delete -f" has 'deployment.apps "web" deleted' K delete -f app.yaml
t "deleted objects are gone" fails_with "NotFound" K get deploy web

# server-side Tables: the upstream columns
t "get deploy shows READY and UP-TO-DATE" has "UP-TO-DATE" K get deploy
t "get svc -o wide shows SELECTOR" has "SELECTOR" K get svc -o wide
t "get ns shows STATUS Active" has "Active" K get ns

# group commit: writes that arrive together share one disk sync. The server is stopped while
# 20 clients, each on its own TLS connection, send a create, so one loop iteration reads all of
# them; every client must get its 201, for one or two syncs instead of 20.
cat > burst.py << 'EOF'
import os, signal, socket, ssl, sys, time
port, pid, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ctx = ssl.create_default_context(cafile="ca.crt")
conns = []
for i in range(n):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1")
    conns.append(s)
os.kill(pid, signal.SIGSTOP)
try:
    for i, s in enumerate(conns):
        body = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"gc-%d"}}' % i
        s.sendall(("POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\n"
                   "Authorization: Bearer s3cr3t-token\r\nContent-Type: application/json\r\n"
                   "Content-Length: %d\r\n\r\n%s" % (len(body), body)).encode())
    time.sleep(0.2)
finally:
    os.kill(pid, signal.SIGCONT)
for i, s in enumerate(conns):
    s.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    status = data.split(b" ", 2)[1]
    if status != b"201":
        print("gc-%d: %s" % (i, data[:300]))
        sys.exit(1)
print("201 x %d" % n)
EOF
metrics() { curl -sf --cacert ca.crt -H "Authorization: Bearer s3cr3t-token" "https://127.0.0.1:$PORT/metrics"; }
metric() { metrics | awk -v m="$1" '$1 == m {print $2}'; }
t "/metrics in the Prometheus format" has "# TYPE reef_store_syncs_total counter" metrics
t "/metrics needs a user" has "Unauthorized" curl -s --cacert ca.crt "https://127.0.0.1:$PORT/metrics"
SYNCS0=$(metric reef_store_syncs_total)
COMMITS0=$(metric reef_store_commits_total)
t "20 creates at once are all answered" has "201 x 20" python3 burst.py "$PORT" "$SERVER_PID" 20
batched() {
    local s c
    s=$(($(metric reef_store_syncs_total) - SYNCS0))
    c=$(($(metric reef_store_commits_total) - COMMITS0))
    echo "commits $c syncs $s"
    [ "$c" -ge 20 ] && [ "$s" -ge 1 ] && [ "$s" -le 3 ]
}
t "they shared one disk sync (group commit)" batched
crash_restart() {
    kill -9 "$SERVER_PID"
    wait "$SERVER_PID" 2> /dev/null
    SERVER_PID=
    start_server
}
t "the server restarts after kill -9" crash_restart
t "a second server on the same data directory is refused" fails_with "is in use by another process" \
    "$REEF" server --data-dir "$D/data" --bind-address 127.0.0.1 --https-listen-port "$((PORT + 2))" \
    --disable-agent --disable-scheduler --disable-controller-manager
gc_count() { K get cm -o name | grep -c '^configmap/gc-'; }
t "every answered create is there" has "20" gc_count

# restart with the same data directory
K apply -f app.yaml > /dev/null 2>&1
RV=$(K get deploy web -o jsonpath='{.metadata.resourceVersion}' 2> /dev/null)
K label deploy web restarted=yes > /dev/null 2>&1
stop_server
t "server restarts on its data" start_server
t "objects survive a restart" has "web" K get deploy web
same_rv() { [ -n "$RV" ] && [ "$(K get deploy web -o jsonpath='{.metadata.resourceVersion}')" -gt "$RV" ]; }
t "revisions survive a restart" same_rv
resume() {
    K get --raw "/apis/apps/v1/namespaces/default/deployments?watch=true&resourceVersion=$RV&timeoutSeconds=1" > resume.out 2>&1
    grep -q '"type":"MODIFIED".*"restarted":"yes"' resume.out || { cat resume.out; return 1; }
}
t "a watch resumes across the restart" resume
t "server stops on SIGTERM" stop_server

# reef server with its own PKI: CA, certificates, admin token and kubeconfig on first start
PORT2=$((PORT + 1))
PKI_PID=
start_pki() {
    "$REEF" server --data-dir "$D/pki-data" --bind-address 127.0.0.1 --https-listen-port "$PORT2" \
        --write-kubeconfig "$D/reef.yaml" --write-kubeconfig-mode 0640 --tls-san reef.example \
        --disable-agent > "$D/pki.log" 2>&1 &
    PKI_PID=$!
    local i
    for i in $(seq 1 100); do
        if [ -s "$D/reef.yaml" ] && "$KUBECTL" --kubeconfig "$D/reef.yaml" --cache-dir "$D/cache-pki" \
            get --raw /readyz > /dev/null 2>&1; then
            return 0
        fi
        sleep 0.02
    done
    cat "$D/pki.log"
    return 1
}
stop_pki() {
    [ -n "$PKI_PID" ] || return 0
    kill "$PKI_PID" 2> /dev/null
    wait "$PKI_PID" 2> /dev/null
    local rc=$?
    PKI_PID=
    return $rc
}
defer stop_pki
KP() { "$KUBECTL" --kubeconfig "$D/reef.yaml" --cache-dir "$D/cache-pki" "$@" < /dev/null; }
t "reef server creates its PKI and kubeconfig" start_pki
t "the kubeconfig has the mode asked for" sh -c "[ \"\$(stat -c %a '$D/reef.yaml')\" = 640 ]"
t "the written kubeconfig works (admin certificate)" has "kube-system" KP get ns
admin_token() {
    local tok
    tok=$(cat "$D/pki-data/server/admin-token") || return 1
    "$KUBECTL" --server "https://127.0.0.1:$PORT2" --certificate-authority "$D/pki-data/server/tls/ca.crt" \
        --token "$tok" --cache-dir "$D/cache-pki-token" get ns < /dev/null
}
t "the admin token works" admin_token
t "a wrong token is refused" fails_with "You must be logged in" "$KUBECTL" --server "https://127.0.0.1:$PORT2" \
    --certificate-authority "$D/pki-data/server/tls/ca.crt" --token nope --cache-dir "$D/cache-pki-bad" get ns
t "apply through the PKI kubeconfig" has "deployment.apps/web created" KP apply -f app.yaml
t "the PKI server stops on SIGTERM" stop_pki
