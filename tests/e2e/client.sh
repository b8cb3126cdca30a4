# End-to-end: reef's own client (get, apply, create, edit, delete, label, annotate, scale,
# rollout restart) against `reef server` on 127.0.0.1, its output compared line by line with
# kubectl 1.32's against the same server (AGE values masked), and the objects each one made.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server.inc"

KUBECTL=${KUBECTL:-kubectl}
if ! command -v "$KUBECTL" > /dev/null 2>&1; then
    echo "not ok - kubectl is installed"
    exit 1
fi

tmpdir D
cd "$D" || exit 1

PORT=$(free_port)
KCFG=$D/admin.yaml
K() { "$KUBECTL" --kubeconfig "$KCFG" --cache-dir "$D/cache" "$@" < /dev/null; }
R() { "$REEF" "$1" --kubeconfig "$KCFG" "${@:2}"; }

start_server_api() { start_server --disable-agent --disable-controller-manager --disable-scheduler; }
defer stop_server
t "reef server starts and writes its kubeconfig" start_server_api

# Durations such as 5s, 3m2s, 10d are AGE values: they differ between two runs.
mask_age() { sed -E 's/(^|[[:space:]])[0-9]+[smhdy]([0-9]+[smhd])?($|[[:space:]])/\1AGE\3/g'; }

# same ARGS...: reef and kubectl print the same stdout, stderr and exit status
same() {
    local ro re rc ko ke kc
    ro=$(R "$@" 2> "$D/r.err")
    rc=$?
    ko=$(K "$@" 2> "$D/k.err")
    kc=$?
    re=$(cat "$D/r.err")
    ke=$(cat "$D/k.err")
    if [ "$rc" != "$kc" ]; then
        printf 'exit status: reef %s, kubectl %s\n%s\n%s\n' "$rc" "$kc" "$re" "$ke"
        return 1
    fi
    if ! diff <(printf '%s\n' "$ro" | mask_age) <(printf '%s\n' "$ko" | mask_age); then
        echo "(stdout: reef <, kubectl >)"
        return 1
    fi
    if ! diff <(printf '%s\n' "$re") <(printf '%s\n' "$ke"); then
        echo "(stderr: reef <, kubectl >)"
        return 1
    fi
}
has() { # STRING CMD...
    local s=$1 out
    shift
    out=$("$@" 2>&1)
    if ! printf '%s\n' "$out" | grep -qF -- "$s"; then
        printf 'wanted: %s\ngot:\n%s\n' "$s" "$out"
        return 1
    fi
}
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

# ---- manifests: one set applied by reef, a twin set (names ending in -k) by kubectl ----
manifest() { # SUFFIX REPLICAS VALUE
    cat << EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web$1
  labels: {app: web$1, tier: front}
spec:
  replicas: $2
  selector: {matchLabels: {app: web$1}}
  template:
    metadata: {labels: {app: web$1}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports: [{containerPort: 80}]
---
# a comment-only document is skipped
---
apiVersion: v1
kind: ConfigMap
metadata: {name: conf$1}
data: {key: "$3"}
---
{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc$1"},
 "spec": {"selector": {"app": "web$1"}, "ports": [{"port": 80}]}}
EOF
}
manifest "" 2 one > app.yaml
manifest -k 2 one > app-k.yaml

t "apply creates" has "deployment.apps/web created" R apply -f app.yaml
t "apply printed every object" sh -c "'$REEF' apply --kubeconfig '$KCFG' -f app.yaml > out.txt &&
    printf 'deployment.apps/web unchanged\nconfigmap/conf unchanged\nservice/svc unchanged\n' |
    diff - out.txt"
K apply -f app-k.yaml > /dev/null 2>&1
# the objects (without server-set fields) equal those kubectl apply made
twin() { # TYPE NAME
    K get "$1" "$2" -o json | grep -vE '"(uid|creationTimestamp|resourceVersion|generation|clusterIP|ip)"' |
        grep -vE '^\s+"10\.' | sed "s/\\b$2\\b/X/g"
}
same_object() { diff <(twin "$1" "$2") <(twin "$1" "$2-k"); }
t "applied deployment equals kubectl's" same_object deployment web
t "applied configmap equals kubectl's" same_object configmap conf

manifest "" 3 two > app.yaml
manifest -k 3 two > app-k.yaml
t "apply patches a change" has "deployment.apps/web configured" R apply -f app.yaml
t "an unchanged object stays unchanged" has "service/svc unchanged" R apply -f app.yaml
K apply -f app-k.yaml > /dev/null 2>&1
t "patched deployment equals kubectl's" same_object deployment web
t "patched configmap equals kubectl's" same_object configmap conf
t "apply reads stdin" sh -c "'$REEF' apply --kubeconfig '$KCFG' -f - < app.yaml | grep -q 'configmap/conf unchanged'"
mkdir dir && cp app.yaml dir/a.yaml && echo 'not a manifest' > dir/readme.txt
t "apply -f DIR" has "deployment.apps/web unchanged" R apply -f dir

# ---- get, compared with kubectl ----
# strings go-yaml must quote, fold or write as a block
K create configmap quoting --from-literal='a=true' --from-literal='b=1:20' --from-literal='c=- x' \
    --from-literal='d=  lead' --from-literal='e=x: y' --from-literal="f=it's" \
    --from-literal='g=line1
line2' --from-literal='h=012' --from-literal='i=' --from-literal='j=a #b' \
    --from-literal="k=$(printf 'long words %.0s' $(seq 1 20))" --from-literal='l=1e3' \
    --from-literal='m=0x1F' --from-literal='n=*star' --from-literal='o=a9' --from-literal='a10=x' \
    --from-literal='A=x' --from-literal='_u=x' --from-literal='p=2024-01-02' \
    --from-literal='q=tab	x' --from-literal='r=ends
' --from-literal='s=0b01e1ed-d4e2' --from-literal='t=0b101' --from-literal='u=0o17' \
    --from-literal='v=0B1x' > /dev/null
for args in "ns" "ns -A" "namespaces --show-labels" "pods" "pods -A" "po -n kube-system" \
    "deploy" "deployments -o wide" "deploy -A --show-labels" "deployment.apps web" \
    "deploy/web" "deploy web -o wide" "cm -A" "configmaps -l tier=front" "cm -n default conf" \
    "svc" "svc -o wide" "services -A -o wide" "deploy -l app=web" "deploy -l app=none" \
    "deploy web nope" "pods nope" "rs -A" "ep" "ev" "leases -A" "nodes" "no" "secrets -A" \
    "deploy -o name" "ns -o name" "cm conf -o name" "deploy web -o json" "cm -o json" \
    "cm conf -o json" "ns default -o json" "cm quoting -o yaml" "deploy -o yaml" \
    "deploy web -o yaml" "ns -o yaml" "svc -A -o yaml" "ev -o yaml" "ep -o yaml" "cm -A -o yaml" \
    "foo" "deploy -n nowhere" "ns --no-headers" "deploy,cm" "deploy,svc -A" "ns,deploy -o name" \
    "pods,rs" "ns,no" "deploy,cm -l app=web" "deploy,foo"; do
    # shellcheck disable=SC2086
    t "get $args" same get $args
done

for tp in '{.spec.replicas}' '{.items[*].metadata.name}' '{.metadata.labels}' \
    '{range .items[*]}{.metadata.name}{"\t"}{.spec.replicas}{"\n"}{end}' 'x{.items[-1].kind}y' \
    '{range .items[*]}[{range .spec.template.spec.containers[*]}{.name},{end}]{end}'; do
    t "get deploy web -o jsonpath=$tp" same get deploy web -o "jsonpath=$tp"
    t "get deploy -A -o jsonpath=$tp" same get deploy -A -o "jsonpath=$tp"
done
t "a name is escaped in the path" same get cm 'x?y'
t "a name with a slash" fails_with 'there is no need to specify a resource type' R get cm a/b

watch_sees_create() {
    R get cm -w > watch.out 2>&1 &
    local pid=$!
    sleep 0.5
    K create configmap watched --from-literal=a=b > /dev/null
    for _ in $(seq 1 50); do
        grep -q '^watched ' watch.out && break
        sleep 0.1
    done
    kill "$pid"
    wait "$pid" 2> /dev/null
    if ! grep -q '^conf ' watch.out || ! grep -q '^watched ' watch.out; then
        cat watch.out
        return 1
    fi
}
t "get -w lists, then streams new objects" watch_sees_create

# ---- bad input ----
t "unknown output format" fails_with 'error: unable to match a printer suitable for the output format "table"' R get deploy -o table
t_expect_rc 1 "unknown output format exits 1" R get deploy -o table
t_expect_rc 1 "unknown type exits 1" R get foo
t "unknown type message" fails_with 'error: the server doesn'"'"'t have a resource type "foo"' R get foo
t "missing file" fails_with 'error: the path "missing.yaml" does not exist' R apply -f missing.yaml
t_expect_rc 1 "missing file exits 1" R apply -f missing.yaml
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n   bad: [\n' > bad.yaml
t "malformed YAML names line and column" fails_with 'error parsing bad.yaml: error converting YAML to JSON: yaml: line 5, column' R apply -f bad.yaml
printf 'apiVersion: v1\nkind: Widget\nmetadata: {name: w}\n' > widget.yaml
t "unknown kind" fails_with 'no matches for kind "Widget" in version "v1"' R apply -f widget.yaml
printf 'apiVersion: v1\nmetadata: {name: w}\n' > nokind.yaml
t "manifest without kind" fails_with 'kind not set' R apply -f nokind.yaml
t "namespace mismatch" fails_with 'does not match the namespace "other"' sh -c \
    "printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m, namespace: default}\n' |
     '$REEF' apply --kubeconfig '$KCFG' -n other -f -"
t "server rejection is kubectl's message" fails_with 'Error from server (NotFound): error when creating "STDIN": namespaces "nowhere" not found' sh -c \
    "printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m, namespace: nowhere}\n' |
     '$REEF' apply --kubeconfig '$KCFG' -f -"
t "bad kubeconfig" fails_with 'error: ' R get pods --kubeconfig "$D/none.yaml"
t_expect_rc 2 "unknown flag is a usage error" R get pods --bogus
sed "s/:$PORT/:$((PORT + 1))/" "$KCFG" > dead.yaml
t "refused connection is kubectl's message" fails_with \
    "The connection to the server 127.0.0.1:$((PORT + 1)) was refused - did you specify the right host or port?" \
    "$REEF" get pods --kubeconfig dead.yaml

# ---- label, annotate, scale: reef on web, kubectl on web-k, same output and same object ----
# twin ARGS...: ARGS with WEB run by reef on web and by kubectl on web-k
twin_cmd() {
    local ro rc ko kc
    ro=$(R "${@//WEB/web}" 2>&1)
    rc=$?
    ko=$(K "${@//WEB/web-k}" 2>&1)
    kc=$?
    ro=${ro//web/WEB}
    ko=${ko//web-k/WEB}
    if [ "$rc" != "$kc" ] || [ "$ro" != "$ko" ]; then
        printf 'reef (%s):\n%s\nkubectl (%s):\n%s\n' "$rc" "$ro" "$kc" "$ko"
        return 1
    fi
}
for args in "label deploy WEB a=b" "label deploy WEB a=b" "label deploy WEB a=c" \
    "label deploy WEB a=c --overwrite" "label deploy/WEB a- q=1" "label deploy WEB zz-" \
    "label deploy WEB a=b=c" "label deploy WEB" "label deploy WEB bad^key=x" \
    "annotate deploy WEB x=1 y=2" "annotate deploy WEB x-" "annotate deploy WEB y=3" \
    "annotate deploy WEB y=3 --overwrite" "scale deploy WEB --replicas=4" \
    "scale deploy nope --replicas=4" "label foo WEB a=b" "rollout restart deploy nope" \
    "rollout restart cm WEB"; do
    # shellcheck disable=SC2086
    t "$args" twin_cmd $args
done
t "labelled and scaled deployment equals kubectl's" same_object deployment web
restarted() { # the pod template carries the restart time
    R rollout restart deployment/web | grep -qx 'deployment.apps/web restarted' &&
        K get deploy web -o jsonpath='{.spec.template.metadata.annotations}' |
        grep -q 'kubectl.kubernetes.io/restartedAt'
}
t "rollout restart" restarted
t "rollout restart of a configmap" same rollout restart configmap conf
t "scale without --replicas" fails_with 'required flag(s) "replicas" not set' R scale deploy web

# ---- create: reef makes the XX-r objects, kubectl the XX-k ones ----
twin_create() {
    local ro rc ko kc
    ro=$(R "${@//XX/xx-r}" 2>&1)
    rc=$?
    ko=$(K "${@//XX/xx-k}" 2>&1)
    kc=$?
    ro=${ro//xx-r/XX}
    ko=${ko//xx-k/XX}
    if [ "$rc" != "$kc" ] || [ "$ro" != "$ko" ]; then
        printf 'reef (%s):\n%s\nkubectl (%s):\n%s\n' "$rc" "$ro" "$kc" "$ko"
        return 1
    fi
}
for s in r k; do
    sed "s/name: web\$/name: xx-$s/; s/name: conf}/name: conf-xx-$s}/; s/\"svc\"/\"svc-xx-$s\"/" app.yaml > "create-xx-$s.yaml"
done
for args in "create -f create-XX.yaml" "create -f create-XX.yaml" "create namespace XX" \
    "create namespace XX" "create configmap XX --from-literal=a=b --from-literal=c=d=e" \
    "create secret generic XX --from-literal=user=admin" "create configmap XX" \
    "create secret generic XX"; do
    # shellcheck disable=SC2086
    t "$args" twin_create $args
done
created_twin() { # TYPE NAME
    diff <(K get "$1" "$2-r" -o json | grep -vE '"(uid|creationTimestamp|resourceVersion|clusterIP|ip)"' |
        grep -vE '^\s+"10\.' | sed "s/$2-r/X/g") \
        <(K get "$1" "$2-k" -o json | grep -vE '"(uid|creationTimestamp|resourceVersion|clusterIP|ip)"' |
            grep -vE '^\s+"10\.' | sed "s/$2-k/X/g")
}
t "created configmap equals kubectl's" created_twin configmap xx
t "created secret equals kubectl's" created_twin secret xx
t "created namespace equals kubectl's" created_twin namespace xx
t "created deployment equals kubectl's" created_twin deployment xx

# ---- edit, with a non-interactive editor ----
t "create objects to edit" sh -c "'$KUBECTL' --kubeconfig '$KCFG' create configmap ed-r --from-literal=a=b &&
    '$KUBECTL' --kubeconfig '$KCFG' create configmap ed-k --from-literal=a=b"
edit_both() { # EDITOR: same output and exit status, then the same object
    local ro rc ko kc
    ro=$(EDITOR=$1 R edit configmap ed-r 2>&1)
    rc=$?
    ko=$(EDITOR=$1 K edit configmap ed-k 2>&1)
    kc=$?
    ro=${ro//ed-r/X}
    ko=${ko//ed-k/X}
    if [ "$rc" != "$kc" ] || [ "$ro" != "$ko" ]; then
        printf 'reef (%s):\n%s\nkubectl (%s):\n%s\n' "$rc" "$ro" "$kc" "$ko"
        return 1
    fi
    created_twin configmap ed
}
t "edit changes a value" edit_both 'sed -i s/a:\ b/a:\ c/'
t "edit adds a key" edit_both "sed -i '/^data:/a\  z: \"1\"'"
t "edit without changes is cancelled" edit_both true
t "edit of a missing object" same edit configmap nope
t "edit that renames the object is refused" fails_with 'must keep its apiVersion, kind and metadata.name' \
    env EDITOR='sed -i s/name:\ ed-r/name:\ other/' "$REEF" edit configmap ed-r --kubeconfig "$KCFG"

# ---- delete ----
t "delete by name" has 'configmap "watched" deleted' R delete cm watched
t "delete TYPE/NAME" has 'service "svc-k" deleted' R delete svc/svc-k
t "delete not found is kubectl's error" fails_with 'Error from server (NotFound): configmaps "watched" not found' R delete configmap watched
t_expect_rc 1 "delete not found exits 1" R delete configmap watched
t "delete --ignore-not-found" R delete configmap watched --ignore-not-found
t "delete unknown type" fails_with 'error: the server doesn'"'"'t have a resource type "foo"' R delete foo x
t "delete -f" sh -c "'$REEF' delete --kubeconfig '$KCFG' -f app.yaml > del.txt &&
    printf 'deployment.apps \"web\" deleted\nconfigmap \"conf\" deleted\nservice \"svc\" deleted\n' |
    diff - del.txt"
t "deleted objects are gone" same get deploy web
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: gone}\n' > gone.yaml
t "delete -f of a missing object names the file" fails_with \
    'Error from server (NotFound): error when deleting "gone.yaml": configmaps "gone" not found' \
    R delete -f gone.yaml
t "a name across all namespaces" same get pods x -A

# ---- cluster-scoped objects and namespaces named in manifests ----
for s in r k; do
    printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns-%s\n  labels: {a: b}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c1, namespace: ns-%s}\ndata: {x: z}\n' \
        "$s" "$s" > "ns-$s.yaml"
done
t "apply a namespace and an object in it" has "configmap/c1 created" R apply -f ns-r.yaml
K apply -f ns-k.yaml > /dev/null 2>&1
t "applied namespace equals kubectl's" created_twin namespace ns
t "reapplied namespace is unchanged" has "namespace/ns-r unchanged" R apply -f ns-r.yaml
