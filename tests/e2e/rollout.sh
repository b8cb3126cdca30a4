# End-to-end: `reef rollout status|history|undo|pause|resume` against `reef server` on 127.0.0.1,
# compared with kubectl 1.32's output against the same objects. No controller runs: the
# Deployment, its ReplicaSets (revision annotations, controller references) and the Deployment's
# status are written directly, as the deployment controller would have written them.
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
R() { "$REEF" "$1" --kubeconfig "$KCFG" "${@:2}" < /dev/null; }

# the objects stand for a controller's work: no controller may touch them
start_server_api() { start_server --disable-agent --disable-controller-manager --disable-scheduler; }
defer stop_server
t "reef server starts and writes its kubeconfig" start_server_api

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
    if ! diff <(printf '%s\n' "$ro") <(printf '%s\n' "$ko"); then
        echo "(stdout: reef <, kubectl >)"
        return 1
    fi
    if ! diff <(printf '%s\n' "$re") <(printf '%s\n' "$ke"); then
        echo "(stderr: reef <, kubectl >)"
        return 1
    fi
}

# ---- the objects: Deployment web at revision 3, its ReplicaSets for revisions 1 to 3 ----
cat > dep.yaml << 'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations: {deployment.kubernetes.io/revision: "3", team: blue}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports: [{containerPort: 80}, {containerPort: 443, name: https}]
        env: [{name: MODE, value: prod}]
EOF
K create -f dep.yaml > /dev/null
DUID=$(K get deploy web -o 'jsonpath={.metadata.uid}')

rs() { # NAME REVISION HASH IMAGE CHANGE-CAUSE [OWNER-UID] [APP]
    cat << EOF
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: $1
  labels: {app: ${7:-web}, pod-template-hash: "$3"}
  annotations:
    deployment.kubernetes.io/revision: "$2"
    deployment.kubernetes.io/desired-replicas: "3"
    kubernetes.io/change-cause: "$5"
    note: from-$1
  ownerReferences:
  - {apiVersion: apps/v1, kind: Deployment, name: web, uid: ${6:-$DUID}, controller: true,
     blockOwnerDeletion: true}
spec:
  replicas: 0
  selector: {matchLabels: {app: ${7:-web}, pod-template-hash: "$3"}}
  template:
    metadata: {labels: {app: ${7:-web}, pod-template-hash: "$3"}}
    spec:
      containers:
      - name: nginx
        image: $4
        ports: [{containerPort: 80}, {containerPort: 443, name: https}]
        env: [{name: MODE, value: prod}]
EOF
}
{
    rs web-1a 1 1a nginx:1.25 "kubectl set image deploy/web nginx=nginx:1.25"
    echo ---
    rs web-2b 2 2b nginx:1.26 ""
    echo ---
    rs web-3c 3 3c nginx:1.27 "kubectl set image deploy/web nginx=nginx:1.27"
    echo ---
    # neither counts: another owner, and labels outside the Deployment's selector
    rs web-x 7 xx nginx:0.1 "" 00000000-0000-4000-8000-000000000000
    echo ---
    rs web-y 8 yy nginx:0.2 "" "$DUID" other
} > rs.yaml
t "the ReplicaSets are created" K create -f rs.yaml
K create deployment lonely --image=nginx > /dev/null 2>&1 ||
    K create -f <(sed 's/name: web$/name: lonely/' dep.yaml) > /dev/null
K create configmap conf > /dev/null

# a Deployment whose one revision's template uses most of what describe prints
cat > rich.yaml << 'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: rich}
spec:
  selector: {matchLabels: {app: rich}}
  template:
    metadata: {labels: {app: rich}}
    spec:
      containers: [{name: c, image: busybox}]
EOF
K create -f rich.yaml > /dev/null
RUID=$(K get deploy rich -o 'jsonpath={.metadata.uid}')
cat > rich-rs.yaml << EOF
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: rich-1
  labels: {app: rich, pod-template-hash: "11"}
  annotations: {deployment.kubernetes.io/revision: "1"}
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: rich, uid: $RUID, controller: true}]
spec:
  replicas: 0
  selector: {matchLabels: {app: rich, pod-template-hash: "11"}}
  template:
    metadata:
      labels: {app: rich, pod-template-hash: "11", tier: back}
      annotations:
        short: one
        long: "$(printf 'x%.0s' $(seq 1 150))"
        multi: "line one\nline two\n"
    spec:
      serviceAccountName: robot
      priorityClassName: high
      nodeSelector: {disk: ssd, zone: a}
      tolerations:
      - {key: k1, operator: Equal, value: v1, effect: NoSchedule}
      - {operator: Exists}
      - {key: k2, operator: Exists, effect: NoExecute, tolerationSeconds: 30}
      initContainers:
      - {name: init, image: busybox, command: [sh, -c, "echo hi\necho there"]}
      containers:
      - name: app
        image: busybox:1.36
        command: [/bin/app]
        args: [--port, "8080"]
        ports: [{containerPort: 8080, hostPort: 18080}, {containerPort: 53, protocol: UDP}]
        resources:
          limits: {memory: 128Mi, cpu: 500m}
          requests: {cpu: 100m}
        livenessProbe: {httpGet: {path: /healthz, port: 8080}, initialDelaySeconds: 3}
        readinessProbe: {tcpSocket: {port: 8080}}
        startupProbe: {exec: {command: [cat, /tmp/ready]}, failureThreshold: 30}
        env:
        - {name: PLAIN, value: "a\nb"}
        - {name: FROM_FIELD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: FROM_SECRET, valueFrom: {secretKeyRef: {name: s, key: k, optional: true}}}
        - {name: FROM_CM, valueFrom: {configMapKeyRef: {name: c, key: k}}}
        volumeMounts:
        - {name: data, mountPath: /data}
        - {name: conf, mountPath: /etc/conf, readOnly: true, subPath: app.conf}
      - name: side
        image: busybox
        ports: [{containerPort: 9090}]
      volumes:
      - {name: data, emptyDir: {}}
      - {name: conf, configMap: {name: app}}
      - {name: sec, secret: {secretName: creds, optional: true}}
      - {name: host, hostPath: {path: /var/log}}
      - {name: mem, emptyDir: {medium: Memory, sizeLimit: 64Mi}}
EOF
t "a ReplicaSet with a rich template is created" K create -f rich-rs.yaml
t "history --revision of a rich template" same rollout history deploy rich --revision 1

# ---- history ----
t "history" same rollout history deployment web
t "history deploy/NAME" same rollout history deploy/web
t "history --revision 1" same rollout history deploy web --revision 1
t "history --revision=3" same rollout history deploy web --revision=3
t "history of a revision not there" same rollout history deploy web --revision 7
t "history --revision -1" same rollout history deploy web --revision -1
t "history without ReplicaSets" same rollout history deploy lonely
t "history of a missing deployment" same rollout history deploy nope
t "history of a configmap" same rollout history configmap conf
t "history -n" same rollout history deploy web -n default
t "history in a missing namespace" same rollout history deploy web -n nowhere
t "history in another namespace" same rollout history deploy web -n kube-system
t "history of a replica set" same rollout history rs/web-1a
t "undo of a replica set" same rollout undo rs web-1a
t "restart of a replica set" same rollout restart rs web-1a
t "pause of a replica set" same rollout pause replicaset web-1a

# ---- status: the Deployment's status set as the controller would ----
set_status() { # OBSERVED-GENERATION-OFFSET REPLICAS UPDATED AVAILABLE [REASON]
    local gen st=True reason=${5:-ReplicaSetUpdated}
    gen=$(K get deploy web -o 'jsonpath={.metadata.generation}')
    [ -n "${5:-}" ] && st=False
    local cond=",\"conditions\":[{\"type\":\"Progressing\",\"status\":\"$st\",\"reason\":\"$reason\",\"message\":\"x\"}]"
    K patch deploy web --subresource=status --type=merge \
        -p "{\"status\":{\"observedGeneration\":$((gen + $1)),\"replicas\":$2,\"updatedReplicas\":$3,\"availableReplicas\":$4$cond}}" \
        > /dev/null
}
set_status 0 3 3 3
t "status of a finished rollout" same rollout status deploy/web
t "status --revision of the running one" same rollout status deploy web --revision 3
t "status --revision of another" same rollout status deploy web --revision 2
t "status --revision -1" same rollout status deploy web --revision=-1
t "status of a missing deployment" same rollout status deploy nope
t "status of a configmap" same rollout status configmap/conf
t "status of a replica set" same rollout status rs/web-1a
set_status -1 3 3 3
t "status --watch=false, spec not observed" same rollout status deploy web --watch=false
t "status -w=false" same rollout status deploy web -w=false
set_status 0 3 1 1
t "status --watch=false, replicas being updated" same rollout status deploy web --watch=false
set_status 0 4 3 3
t "status --watch=false, old replicas terminating" same rollout status deploy web --watch=false
set_status 0 3 3 2
t "status --watch=false, replicas not available" same rollout status deploy web --watch=false
t "status --timeout on an unfinished rollout" same rollout status deploy web --timeout=1s
set_status 0 3 1 1 ProgressDeadlineExceeded
t "status past the progress deadline" same rollout status deploy web

# status following changes: both watch while the status moves on, in steps each waits for
follow() {
    set_status 0 3 1 1
    R rollout status deploy/web > r.out 2> r.err &
    local rp=$!
    K rollout status deploy/web > k.out 2> k.err &
    local kp=$!
    wait_lines() { # N
        for _ in $(seq 1 200); do
            [ "$(wc -l < r.out)" -ge "$1" ] && [ "$(wc -l < k.out)" -ge "$1" ] && return 0
            sleep 0.05
        done
        return 1
    }
    local ok=0
    wait_lines 1 || ok=1
    set_status 0 4 3 3
    wait_lines 2 || ok=1
    set_status 0 3 3 2
    wait_lines 3 || ok=1
    set_status 0 3 3 3
    wait_lines 4 || ok=1
    for _ in $(seq 1 100); do
        kill -0 "$rp" 2> /dev/null || kill -0 "$kp" 2> /dev/null || break
        sleep 0.05
    done
    kill "$rp" "$kp" 2> /dev/null
    wait "$rp"
    local rc=$?
    wait "$kp"
    local kc=$?
    if [ "$ok" != 0 ] || [ "$rc" != "$kc" ] || [ "$rc" != 0 ]; then
        printf 'waiting: %s, exit status: reef %s, kubectl %s\n' "$ok" "$rc" "$kc"
        cat r.out r.err k.out k.err
        return 1
    fi
    diff r.out k.out && diff r.err k.err && [ "$(tail -1 r.out)" = 'deployment "web" successfully rolled out' ]
}
t "status follows the rollout" follow

# ---- undo, pause, resume: each run by reef and by kubectl on the same starting object ----
K get deploy web -o json | grep -v '"resourceVersion"' > saved.json
restore() { K replace -f saved.json > /dev/null; }
state() { K get deploy web -o 'jsonpath={.spec.template}{"\n"}{.metadata.annotations}{"\n"}{.spec.paused}{"\n"}'; }
# mutating ARGS...: same output and exit status, and the same Deployment afterwards
mutating() {
    local ro rc ko kc rs ks
    restore
    # shellcheck disable=SC2086
    [ -n "${PRE:-}" ] && K $PRE > /dev/null
    ro=$(R "$@" 2>&1)
    rc=$?
    rs=$(state)
    restore
    # shellcheck disable=SC2086
    [ -n "${PRE:-}" ] && K $PRE > /dev/null
    ko=$(K "$@" 2>&1)
    kc=$?
    ks=$(state)
    if [ "$rc" != "$kc" ] || [ "$ro" != "$ko" ]; then
        printf 'reef (%s):\n%s\nkubectl (%s):\n%s\n' "$rc" "$ro" "$kc" "$ko"
        return 1
    fi
    if [ "$rs" != "$ks" ]; then
        diff <(echo "$rs") <(echo "$ks")
        echo "(deployment after: reef <, kubectl >)"
        return 1
    fi
}
t "undo to the previous revision" mutating rollout undo deploy web
t "undo --to-revision 1" mutating rollout undo deploy/web --to-revision 1
t "undo --to-revision=3 (the current template)" mutating rollout undo deploy web --to-revision=3
t "undo to a revision not there" mutating rollout undo deploy web --to-revision 9
t "undo --to-revision -1" mutating rollout undo deploy web --to-revision=-1
t "undo without history" same rollout undo deploy lonely
t "undo of a missing deployment" same rollout undo deploy nope
t "undo of a configmap" same rollout undo cm conf
t "undo twice returns" sh -c "'$REEF' rollout undo deploy web --kubeconfig '$KCFG' &&
    '$REEF' rollout undo deploy web --kubeconfig '$KCFG' | grep -q 'skipped rollback (current template already matches revision 0)'"
t "pause" mutating rollout pause deploy web
t "resume of a running deployment" mutating rollout resume deploy web
PRE="rollout pause deploy web"
t "pause of a paused deployment" mutating rollout pause deploy web
t "resume" mutating rollout resume deployment/web
t "undo of a paused deployment" mutating rollout undo deploy web
PRE=
t "pause of a configmap" same rollout pause cm/conf
t "resume of a configmap" same rollout resume cm conf
t "pause of a missing deployment" same rollout pause deploy nope
t "rollout without a resource" same rollout status
restore
t "restart" sh -c "'$REEF' rollout restart deploy web --kubeconfig '$KCFG' | grep -qx 'deployment.apps/web restarted'"
t "restart set the annotation" sh -c "'$KUBECTL' --kubeconfig '$KCFG' --cache-dir '$D/cache' get deploy web -o jsonpath='{.spec.template.metadata.annotations}' | grep -q restartedAt"
t "restart of a configmap" same rollout restart cm conf
