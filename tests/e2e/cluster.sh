# End-to-end: `reef server` as a single-node cluster. The server (scheduler, controllers and the
# embedded agent with real containers), the test registry and every client run inside a network
# namespace this test creates, so the bridge reef0 and the pod addresses never touch the machine's
# own network. Needs root, kubectl 1.32, docker-registry, skopeo and busybox-static.
here=$(cd "$(dirname "$0")" && pwd)

if [ -z "${REEF_CLUSTER_NETNS:-}" ]; then
    # Outside: make the namespace, run this script again inside it, and remove it afterwards.
    set -u
    : "${REEF:?REEF must point at the reef binary}"
    if [ "$(id -u)" != 0 ]; then
        echo "not ok - cluster tests run as root (network namespace, containers)"
        exit 1
    fi
    ns=reef-t-cluster-$$
    if ! ip netns add "$ns"; then
        echo "not ok - ip netns add $ns"
        exit 1
    fi
    trap 'ip netns del "$ns" 2> /dev/null' EXIT
    ip -n "$ns" link set lo up
    # nsenter, not `ip netns exec`: that one mounts a fresh /sys, hiding the cgroup hierarchies
    REEF_CLUSTER_NETNS=$ns nsenter --net="/run/netns/$ns" bash "$0" "$@"
    exit $?
fi

. "$here/lib.sh"
. "$here/server.inc"
. "$here/../images/registry.sh"

KUBECTL=${KUBECTL:-kubectl}
for tool in "$KUBECTL" docker-registry skopeo busybox jq script curl nsenter; do
    if ! command -v "$tool" > /dev/null 2>&1; then
        echo "not ok - $tool is installed"
        exit 1
    fi
done

tmpdir D
cd "$D" || exit 1
bash "$here/../images/mkimage.sh" "$D/img" > /dev/null 2>&1 || {
    echo "not ok - mkimage.sh"
    exit 1
}
registry_start "$D/reg" 0 > /dev/null 2>&1 || {
    echo "not ok - registry starts"
    exit 1
}
defer registry_stop
R=$REGISTRY_ADDR
pushed() { registry_push "$D/img/oci/busybox" busybox:latest && registry_push "$D/img/oci/busybox" busybox:v2; }
t "test images pushed to the registry in the namespace" pushed

# A second registry, TLS with basic auth, for imagePullSecrets; the node trusts its CA through
# --private-registry (credentials come only from the pods' secrets).
pki=$D/pki
registry_test_pki "$pki" || echo "not ok - test PKI and htpasswd"
plain_pid=$REGISTRY_PID
REGISTRY_PID=
registry_start "$D/reg2" 0 tls "$pki/srv.crt" "$pki/srv.key" htpasswd "$pki/htpasswd" > /dev/null 2>&1 ||
    echo "not ok - the TLS registry with basic auth starts"
auth_pid=$REGISTRY_PID
AR=$REGISTRY_ADDR
REGISTRY_PID=$plain_pid
REGISTRY_ADDR=$R
defer '[ -n "$auth_pid" ] && kill "$auth_pid" 2> /dev/null && wait "$auth_pid" 2> /dev/null'
t "an image pushed to the registry with basic auth" skopeo --insecure-policy copy -q \
    --dest-tls-verify=false --dest-creds reef:s3cret "oci:$D/img/oci/busybox:latest" "docker://$AR/private/bb:latest"
printf 'configs:\n  "%s":\n    tls:\n      ca_file: %s\n' "$AR" "$pki/ca.crt" > "$D/registries.yaml"

PORT=$(registry_free_port)
KCFG=$D/kubeconfig
K() { "$KUBECTL" --kubeconfig "$KCFG" --cache-dir "$D/cache" "$@"; }
RF() { "$REEF" "$1" --kubeconfig "$KCFG" "${@:2}"; }
RD() { "$REEF" "$1" --data-dir "$D/data" "${@:2}"; }

# Whatever happens: the server stops, then every container it started goes (with its mounts and
# cgroups), then the pods' sandboxes.
cleanup_containers() {
    local ids
    ids=$(RD ps -aq 2> /dev/null)
    [ -n "$ids" ] && RD rm -f $ids > /dev/null 2>&1
    for m in $(awk -v d="$D/data/pods" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
        umount -l "$m" 2> /dev/null
    done
}
defer cleanup_containers
defer stop_server
# REEF_KEEP_LOG=FILE keeps the server's log for a look after a failure
defer '[ -n "${REEF_KEEP_LOG:-}" ] && cp "$D/server.log" "$REEF_KEEP_LOG"'
start_node() { start_server --node-name node1 --private-registry "$D/registries.yaml"; }
t "reef server starts with its agent" start_node

# until SECONDS CMD...: CMD succeeds within SECONDS (polling)
until_ok() {
    local end=$((SECONDS + $1))
    shift
    while ! "$@" > /dev/null 2>&1; do
        if [ "$SECONDS" -ge "$end" ]; then
            "$@"
            return 1
        fi
        sleep 0.2
    done
}
node_ready() { K get node node1 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True; }
t "node1 registers and is Ready" until_ok 20 node_ready
t "node has capacity, addresses and a pod CIDR" sh -c \
    "$(declare -f K); KUBECTL='$KUBECTL' KCFG='$KCFG' D='$D'; K get node node1 -o json | jq -e '.status.capacity.cpu and .status.allocatable.memory and .spec.podCIDR == \"10.42.0.0/24\" and (.status.addresses | length) == 2 and .status.nodeInfo.architecture'"
t "node lease held" K get lease -n kube-node-lease node1

deployment() { # IMAGE REPLICAS
    cat << EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: $2
  selector:
    matchLabels: {app: web}
  strategy:
    rollingUpdate: {maxSurge: 1, maxUnavailable: 1}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: httpd
        image: $1
        command: ["httpd", "-f", "-p", "8080", "-h", "/"]
        ports:
        - {name: http, containerPort: 8080}
        readinessProbe:
          httpGet: {path: /etc/hostname, port: http}
          periodSeconds: 1
          timeoutSeconds: 5
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - {port: 80, targetPort: http}
EOF
}
deployment "$R/busybox:latest" 3 > web.yaml
t "kubectl apply a Deployment of 3 and a Service" K apply -f web.yaml
t "rollout status completes" K rollout status deployment/web --timeout=90s
ready_count() { K get deploy web -o jsonpath='{.status.readyReplicas}'; }
pods_ready() { # N
    local n
    n=$(K get pods -l app=web -o json | jq '[.items[] | select(.metadata.deletionTimestamp == null) | select(.status.conditions // [] | map(select(.type == "Ready" and .status == "True")) | length > 0)] | length')
    [ "$n" = "$1" ] && [ "$(K get pods -l app=web --no-headers | wc -l)" = "$1" ] && return 0
    K get pods -l app=web -o wide
    K get rs -l app=web
    return 1
}
t "3 pods Running and Ready" until_ok 30 pods_ready 3
t "kubectl get pods shows 1/1 Running" sh -c \
    "$(declare -f K); KUBECTL='$KUBECTL' KCFG='$KCFG' D='$D'; test \$(K get pods -l app=web --no-headers | awk '\$2 == \"1/1\" && \$3 == \"Running\"' | wc -l) = 3"
same_get() {
    diff <(RF get pods -l app=web | sed -E 's/[0-9]+[smh]([0-9]+[sm])?$/AGE/') \
        <(K get pods -l app=web | sed -E 's/[0-9]+[smh]([0-9]+[sm])?$/AGE/')
}
t "reef get pods shows what kubectl shows" same_get
pod_ips() { K get pods -l app=web -o jsonpath='{range .items[*]}{.status.podIP}{"\n"}{end}'; }
served() {
    local ip n=0
    for ip in $(pod_ips); do
        case "$ip" in 10.42.0.*) ;; *) echo "address $ip"; return 1 ;; esac
        curl -s --max-time 2 "http://$ip:8080/etc/hostname" > "$D/got" 2>&1
        grep -q '^web-' "$D/got" || { echo "from $ip:"; cat "$D/got"; return 1; }
        n=$((n + 1))
    done
    [ "$n" = 3 ]
}
t "each pod has an address on reef0 and serves HTTP" served
endpoints_ready() { [ "$(K get endpoints web -o json | jq '.subsets[0].addresses | length')" = 3 ]; }
t "the Service's endpoints list the 3 ready pods" until_ok 20 endpoints_ready

t "kubectl scale to 5" K scale deployment web --replicas=5
t "5 pods Ready" until_ok 40 pods_ready 5
t "reef scale to 1" RF scale deployment web --replicas=1
t "1 pod left" until_ok 40 pods_ready 1
web_containers() { RD ps -a 2> /dev/null | grep -c ' k8s_httpd_web-'; }
one_web_container() { [ "$(web_containers)" = 1 ] || { RD ps -a; return 1; }; }
t "the surplus pods' containers are stopped and removed" until_ok 20 one_web_container
t "scale back to 3" K scale deployment web --replicas=3
t "3 pods Ready again" until_ok 40 pods_ready 3

# A rolling update: never fewer than replicas - maxUnavailable = 2 ready pods.
rolling() {
    K set image deployment/web "httpd=$R/busybox:v2" > /dev/null || return 1
    local min=9 r end=$((SECONDS + 90))
    while [ "$SECONDS" -lt "$end" ]; do
        r=$(ready_count)
        [ -n "$r" ] && [ "$r" -lt "$min" ] && min=$r
        if [ "$(K get deploy web -o jsonpath='{.status.updatedReplicas}/{.status.availableReplicas}/{.status.replicas}')" = "3/3/3" ]; then
            echo "lowest ready during the rollout: $min"
            [ "$min" -ge 2 ]
            return
        fi
        sleep 0.1
    done
    return 1
}
t "rolling update to v2 keeps at least 2 ready" rolling
t "every pod runs v2" sh -c \
    "$(declare -f K); KUBECTL='$KUBECTL' KCFG='$KCFG' D='$D'; test \$(K get pods -l app=web -o jsonpath='{.items[*].spec.containers[0].image}' | tr ' ' '\n' | grep -c ':v2\$') = 3"
t "rollout history lists 2 revisions" sh -c \
    "$(declare -f K); KUBECTL='$KUBECTL' KCFG='$KCFG' D='$D'; K rollout history deployment/web | grep -Ec '^[12] ' | grep -qx 2"
t "kubectl rollout undo" K rollout undo deployment/web
t "rollout status after undo completes" K rollout status deployment/web --timeout=90s
t "the template is back on latest" sh -c \
    "$(declare -f K); KUBECTL='$KUBECTL' KCFG='$KCFG' D='$D'; K get deploy web -o jsonpath='{.spec.template.spec.containers[0].image}' | grep -q ':latest\$'"

# ---- the same with reef's own client ----
cat > api.yaml << EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: sleep
        image: $R/busybox:latest
        command: ["sleep", "100000"]
EOF
t "reef apply a Deployment of 2" RF apply -f api.yaml
t "reef rollout status completes" RF rollout status deployment/api --timeout=60s
api_running() { test "$(RF get pods -l app=api --no-headers | awk '$2 == "1/1" && $3 == "Running"' | wc -l)" = 2; }
t "reef get pods: both Running" api_running
top_pods() { K top pod -l app=api --no-headers | awk '$2 ~ /m$/ && $3 ~ /Mi$/' | wc -l | grep -qx 2; }
t "kubectl top pod shows the pods' CPU and memory" until_ok 20 top_pods
top_node() { K top node --no-headers | grep -q '^node1 '; }
t "kubectl top node" top_node
t "reef delete -f removes it" RF delete -f api.yaml --wait=true --timeout=60s

# ---- restarts ----
first_pod() { K get pods -l app=web -o jsonpath='{.items[0].metadata.name}'; }
t "the old pods of the undone rollout are gone" until_ok 60 pods_ready 3
P=$(first_pod)
restarts() { K get pod "$P" -o jsonpath='{.status.containerStatuses[0].restartCount}'; }
kill_container() {
    local id pid
    id=$(K get pod "$P" -o jsonpath='{.status.containerStatuses[0].containerID}')
    id=${id#reef://}
    pid=$(RD inspect "$id" | jq -r '.[0].State.Pid')
    [ -n "$pid" ] && [ "$pid" -gt 0 ] && kill -9 "$pid"
}
t "killing a container's process" kill_container
t "it restarts: RESTARTS rises to 1" until_ok 20 sh -c "test \"\$($(declare -f K restarts); KUBECTL='$KUBECTL' KCFG='$KCFG' D='$D' P='$P'; restarts)\" = 1"
t "killing it again" until_ok 20 kill_container
backoff() {
    K get pod "$P" -o json | jq -e '.status.containerStatuses[0] | .state.waiting.reason == "CrashLoopBackOff" and .lastState.terminated.exitCode == 137'
}
t "the second crash waits in CrashLoopBackOff" until_ok 10 backoff
t "a BackOff event is recorded" until_ok 10 sh -c \
    "$(declare -f K); KUBECTL='$KUBECTL' KCFG='$KCFG' D='$D'; K get events --field-selector involvedObject.name=$P,reason=BackOff -o name | grep -q ."
t "after the back-off it runs again with RESTARTS 2" until_ok 30 sh -c "test \"\$($(declare -f K restarts); KUBECTL='$KUBECTL' KCFG='$KCFG' D='$D' P='$P'; restarts)\" = 2"

cat > probes.yaml << EOF
apiVersion: v1
kind: Pod
metadata:
  name: unhealthy
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: $R/busybox:latest
    command: ["sh", "-c", "touch /tmp/healthy; sleep 2; rm /tmp/healthy; sleep 1000"]
    livenessProbe:
      exec: {command: ["cat", "/tmp/healthy"]}
      periodSeconds: 1
      failureThreshold: 1
---
apiVersion: v1
kind: Pod
metadata:
  name: noimage
spec:
  containers:
  - name: app
    image: $R/nosuch:latest
---
apiVersion: v1
kind: Pod
metadata:
  name: huge
spec:
  containers:
  - name: app
    image: $R/busybox:latest
    resources:
      requests: {memory: 64Ti}
---
apiVersion: v1
kind: Pod
metadata:
  name: logger
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: $R/busybox:latest
    command: ["sh", "-c", "i=0; while true; do echo line \$i; i=\$((i+1)); sleep 0.2; done"]
EOF
t "apply pods: failing liveness, missing image, oversize request, logger" K apply -f probes.yaml
t "a failing liveness probe restarts the container" until_ok 30 sh -c \
    "$(declare -f K); KUBECTL='$KUBECTL' KCFG='$KCFG' D='$D'; test \"\$(K get pod unhealthy -o jsonpath='{.status.containerStatuses[0].restartCount}')\" -ge 1"
t "an Unhealthy event says why" sh -c \
    "$(declare -f K); KUBECTL='$KUBECTL' KCFG='$KCFG' D='$D'; K get events --field-selector involvedObject.name=unhealthy,reason=Unhealthy -o jsonpath='{.items[0].message}' | grep -q 'Liveness probe failed'"
waiting_reason() { K get pod noimage -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}'; }
t "a missing image shows ErrImagePull" until_ok 20 sh -c \
    "$(declare -f K waiting_reason); KUBECTL='$KUBECTL' KCFG='$KCFG' D='$D'; waiting_reason | grep -qx ErrImagePull"
t "then ImagePullBackOff" until_ok 20 sh -c \
    "$(declare -f K waiting_reason); KUBECTL='$KUBECTL' KCFG='$KCFG' D='$D'; waiting_reason | grep -qx ImagePullBackOff"
t "with a Failed event naming the image" sh -c \
    "$(declare -f K); KUBECTL='$KUBECTL' KCFG='$KCFG' D='$D'; K get events --field-selector involvedObject.name=noimage,reason=Failed -o jsonpath='{.items[*].message}' | grep -q 'nosuch'"
t "an oversize memory request stays Pending" sh -c \
    "$(declare -f K); KUBECTL='$KUBECTL' KCFG='$KCFG' D='$D'; test \"\$(K get pod huge -o jsonpath='{.status.phase}/{.spec.nodeName}')\" = Pending/"
t "with a FailedScheduling event: Insufficient memory" until_ok 10 sh -c \
    "$(declare -f K); KUBECTL='$KUBECTL' KCFG='$KCFG' D='$D'; K get events --field-selector involvedObject.name=huge,reason=FailedScheduling -o jsonpath='{.items[0].message}' | grep -q '0/1 nodes are available: 1 Insufficient memory'"

# ---- graceful termination: the preStop hook runs to its end, then the stop signal ----
mkdir -p "$D/stopper"
cat > stopper.yaml << EOF
apiVersion: v1
kind: Pod
metadata: {name: stopper}
spec:
  terminationGracePeriodSeconds: 20
  volumes:
  - {name: out, hostPath: {path: $D/stopper, type: DirectoryOrCreate}}
  containers:
  - name: app
    image: $R/busybox:latest
    command: ["sh", "-c", "trap 'echo term >> /out/log; exit 0' TERM; echo started >> /out/log; while true; do sleep 0.1; done"]
    volumeMounts:
    - {name: out, mountPath: /out}
    lifecycle:
      preStop:
        exec: {command: ["sh", "-c", "echo prestop >> /out/log; sleep 1; echo prestop-done >> /out/log"]}
EOF
stopper_started() { grep -qx started "$D/stopper/log" 2> /dev/null; }
t "a pod with a hostPath volume and a preStop hook runs" sh -c \
    "$(declare -f K); KUBECTL='$KUBECTL' KCFG='$KCFG' D='$D'; K apply -f stopper.yaml > /dev/null" 
t "it writes to the node's directory" until_ok 20 stopper_started
t "deleting it waits for the hook, then stops it" K delete pod stopper --timeout=30s
stopper_order() { [ "$(cat "$D/stopper/log")" = "$(printf 'started\nprestop\nprestop-done\nterm')" ] || { cat "$D/stopper/log"; return 1; }; }
t "preStop ran to its end before the stop signal (SIGTERM handled)" stopper_order

# ---- the rest of a pod's spec: init containers, configMap and secret volumes, env references,
# restart policies, OOM kills, privileged containers refused ----
cat > spec.yaml << EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {greeting: hello, color: blue}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
data: {password: czNjcjN0}
---
apiVersion: v1
kind: Pod
metadata: {name: full, labels: {tier: demo}}
spec:
  restartPolicy: Never
  volumes:
  - {name: work, emptyDir: {}}
  - {name: conf, configMap: {name: settings, items: [{key: greeting, path: greet/text}]}}
  - {name: sec, secret: {secretName: creds, defaultMode: 0444}}
  initContainers:
  - name: first
    image: $R/busybox:latest
    command: ["sh", "-c", "echo one > /work/order"]
    volumeMounts: [{name: work, mountPath: /work}]
  - name: second
    image: $R/busybox:latest
    command: ["sh", "-c", "echo two >> /work/order"]
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: main
    image: $R/busybox:latest
    command: ["sh", "-c", "cat /work/order; cat /conf/greet/text; echo; cat /sec/password; echo; echo \$COLOR \$PASS \$POD_NAME \$APP_TIER \$(id -u); stat -L -c %a /sec/password"]
    securityContext: {runAsUser: 1000}
    env:
    - {name: COLOR, valueFrom: {configMapKeyRef: {name: settings, key: color}}}
    - {name: PASS, valueFrom: {secretKeyRef: {name: creds, key: password}}}
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: APP_TIER, valueFrom: {fieldRef: {fieldPath: "metadata.labels['tier']"}}}
    volumeMounts:
    - {name: work, mountPath: /work}
    - {name: conf, mountPath: /conf}
    - {name: sec, mountPath: /sec}
---
apiVersion: v1
kind: Pod
metadata: {name: flaky}
spec:
  restartPolicy: OnFailure
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: $R/busybox:latest
    command: ["sh", "-c", "exit 3"]
---
apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: $R/busybox:latest
    command: ["sh", "-c", "x=a; while :; do x=\$x\$x; done"]
    resources: {limits: {memory: 16Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: priv}
spec:
  containers:
  - name: app
    image: $R/busybox:latest
    command: ["sleep", "1000"]
    securityContext: {privileged: true}
EOF
t "apply a ConfigMap, a Secret and pods using the rest of the pod spec" K apply -f spec.yaml
phase_of() { K get pod "$1" -o jsonpath='{.status.phase}'; }
full_done() {
    [ "$(phase_of full)" = Succeeded ] && return 0
    K get pod full -o json | jq -c '.status | {phase, conditions: [.conditions[] | {type, status}], init: [.initContainerStatuses[]?.state], main: [.containerStatuses[]?.state]}'
    return 1
}
t "init containers in order, then the container: the pod Succeeded" until_ok 60 full_done
full_log() {
    local want
    want=$(printf 'one\ntwo\nhello\ns3cr3t\nblue s3cr3t full demo 1000\n444')
    [ "$(K logs full -c main)" = "$want" ] || { K logs full -c main; return 1; }
}
t "configMap items, secret files (defaultMode), env references, runAsUser" full_log
t "the init containers' statuses say Completed" sh -c \
    "$(declare -f K); KUBECTL='$KUBECTL' KCFG='$KCFG' D='$D'; test \"\$(K get pod full -o jsonpath='{.status.initContainerStatuses[*].state.terminated.reason}')\" = 'Completed Completed'"
flaky_restarts() { [ "$(K get pod flaky -o jsonpath='{.status.containerStatuses[0].restartCount}')" -ge 1 ]; }
t "restartPolicy OnFailure restarts a failing container" until_ok 20 flaky_restarts
hog_oom() {
    K get pod hog -o json | jq -e '.status.phase == "Failed" and .status.containerStatuses[0].state.terminated.reason == "OOMKilled" and .status.containerStatuses[0].state.terminated.exitCode == 137'
}
t "a container over its memory limit: OOMKilled, exit 137, the pod Failed (Never)" until_ok 30 hog_oom
priv_refused() {
    K get pod priv -o json | jq -e '.status.containerStatuses[0].state.waiting.reason == "CreateContainerConfigError" and (.status.containerStatuses[0].state.waiting.message | test("privileged"))'
}
t "a privileged container is refused without --allow-privileged" until_ok 20 priv_refused
t "delete them" K delete -f spec.yaml --wait=true --timeout=60s

# ---- a changed ConfigMap reaches a running pod's volume (the kubelet's atomic layout) ----
cat > live.yaml << EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: live}
data: {msg: first, extra: x}
---
apiVersion: v1
kind: Pod
metadata: {name: live, labels: {app: live}}
spec:
  terminationGracePeriodSeconds: 1
  volumes:
  - {name: conf, configMap: {name: live}}
  - name: info
    downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}
  containers:
  - name: app
    image: $R/busybox:latest
    command: ["sleep", "1000"]
    volumeMounts: [{name: conf, mountPath: /conf, readOnly: true}, {name: info, mountPath: /info}]
EOF
t "a pod mounting a ConfigMap" K apply -f live.yaml
live_is() { [ "$(K exec live -- sh -c 'cat /conf/msg; echo; ls /conf | tr "\n" " "')" = "$1" ]; }
t "it reads the ConfigMap's keys" until_ok 30 live_is "$(printf 'first\nextra msg ')"
t "change a key and remove another" K patch configmap live --type=json \
    -p '[{"op":"replace","path":"/data/msg","value":"second"},{"op":"remove","path":"/data/extra"}]'
t "the running pod sees the new content, and the removed key gone" until_ok 20 live_is "$(printf 'second\nmsg ')"
live_link() { K exec live -- readlink /conf/..data | grep -q '^\.\.[0-9a-f]'; }
t "through ..data, switched in one rename" live_link
labels_are() { [ "$(K exec live -- cat /info/labels)" = "$1" ]; }
t "a downwardAPI volume holds the pod's labels" labels_are 'app="live"'
t "label the pod" K label pod live color=blue
t "the labels file follows" until_ok 20 labels_are "$(printf 'app="live"\ncolor="blue"')"
t "delete it" K delete -f live.yaml --wait=true --timeout=60s

# ---- imagePullSecrets ----
t "a docker-registry secret" K create secret docker-registry regcred --docker-server="$AR" \
    --docker-username=reef --docker-password=s3cret
cat > private.yaml << EOF
apiVersion: v1
kind: Pod
metadata: {name: private}
spec:
  terminationGracePeriodSeconds: 1
  imagePullSecrets: [{name: regcred}]
  containers: [{name: app, image: $AR/private/bb:latest, command: ["sleep", "1000"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: nocreds}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: app, image: $AR/private/bb:latest, command: ["sleep", "1000"]}]
EOF
t "pods pulling from the registry with basic auth, with and without the secret" K apply -f private.yaml
private_running() { [ "$(K get pod private -o jsonpath='{.status.phase}')" = Running ]; }
t "with imagePullSecrets the image is pulled and the pod runs" until_ok 30 private_running
nocreds_refused() {
    K get pod nocreds -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}' | grep -Eq 'ErrImagePull|ImagePullBackOff' &&
        K get events --field-selector involvedObject.name=nocreds,reason=Failed -o jsonpath='{.items[*].message}' | grep -qi 'unauthorized\|401\|denied\|authentication'
}
t "without them the pull is refused, and the event says why" until_ok 30 nocreds_refused
t "delete them" K delete -f private.yaml --wait=true --timeout=60s

# ---- hostPID and hostIPC; shareProcessNamespace refused ----
cat > hostns.yaml << EOF
apiVersion: v1
kind: Pod
metadata: {name: hostns}
spec:
  restartPolicy: Never
  hostPID: true
  hostIPC: true
  containers:
  - {name: app, image: $R/busybox:latest, command: ["sh", "-c", "cat /proc/1/comm; readlink /proc/self/ns/ipc"]}
---
apiVersion: v1
kind: Pod
metadata: {name: sharedpid}
spec:
  shareProcessNamespace: true
  containers: [{name: app, image: $R/busybox:latest, command: ["sleep", "1000"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: tuned}
spec:
  restartPolicy: Never
  securityContext:
    sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "0"}, {name: net.ipv4.tcp_keepalive_time, value: "600"}]
  containers:
  - {name: app, image: $R/busybox:latest, command: ["cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start", "/proc/sys/net/ipv4/tcp_keepalive_time"]}
---
apiVersion: v1
kind: Pod
metadata: {name: unsafe}
spec:
  securityContext: {sysctls: [{name: kernel.msgmax, value: "65536"}]}
  containers: [{name: app, image: $R/busybox:latest, command: ["sleep", "1000"]}]
EOF
t "pods asking for the host's PID and IPC namespaces, a shared one, and sysctls" K apply -f hostns.yaml
hostns_done() { [ "$(K get pod hostns -o jsonpath='{.status.phase}')" = Succeeded ]; }
t "it runs" until_ok 30 hostns_done
hostns_same() {
    local want
    # (this shell shares the node's IPC namespace; /proc/1/ns may be closed to it)
    want=$(printf '%s\n%s' "$(cat /proc/1/comm)" "$(readlink /proc/self/ns/ipc)")
    [ "$(K logs hostns)" = "$want" ] || { K logs hostns; echo "want: $want"; return 1; }
}
t "in the host's PID and IPC namespaces" hostns_same
sharedpid_refused() {
    K get pod sharedpid -o jsonpath='{.status.containerStatuses[0].state.waiting.message}' |
        grep -q 'shareProcessNamespace: reef gives each container a PID namespace of its own'
}
t "shareProcessNamespace is refused, saying so" until_ok 20 sharedpid_refused
tuned_done() { [ "$(K get pod tuned -o jsonpath='{.status.phase}')" = Succeeded ]; }
t "a pod with safe sysctls runs" until_ok 30 tuned_done
t "they are set in its network namespace" sh -c \
    "$(declare -f K); KUBECTL='$KUBECTL' KCFG='$KCFG' D='$D'; test \"\$(K logs tuned | tr '\n' ' ')\" = '0 600 '"
unsafe_refused() {
    K get pod unsafe -o jsonpath='{.status.containerStatuses[0].state.waiting.message}' |
        grep -q 'forbidden sysctl: "kernel.msgmax" not allowlisted'
}
t "an unsafe sysctl is refused as the kubelet refuses it" until_ok 20 unsafe_refused
t "delete them" K delete -f hostns.yaml --wait=true --timeout=60s

# ---- postStart hooks ----
cat > hooks.yaml << EOF
apiVersion: v1
kind: Pod
metadata: {name: poststart}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: $R/busybox:latest
    command: ["sh", "-c", "while [ ! -f /tmp/hooked ]; do sleep 0.1; done; cat /tmp/hooked; sleep 1000"]
    lifecycle: {postStart: {exec: {command: ["sh", "-c", "echo from the hook > /tmp/hooked"]}}}
---
apiVersion: v1
kind: Pod
metadata: {name: badhook}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: $R/busybox:latest
    command: ["sleep", "1000"]
    lifecycle: {postStart: {exec: {command: ["sh", "-c", "exit 3"]}}}
---
apiVersion: v1
kind: Pod
metadata: {name: sleephook}
spec:
  terminationGracePeriodSeconds: 10
  containers:
  - name: app
    image: $R/busybox:latest
    command: ["sleep", "1000"]
    lifecycle:
      postStart: {httpGet: {port: 8080}}
      preStop: {sleep: {seconds: 2}}
EOF
t "pods with postStart hooks" K apply -f hooks.yaml
hooked() { [ "$(K logs poststart)" = "from the hook" ]; }
t "the postStart hook runs in the container beside its command" until_ok 30 hooked
badhook() {
    K get events --field-selector involvedObject.name=badhook,reason=FailedPostStartHook -o name | grep -q . &&
        [ "$(K get pod badhook -o jsonpath='{.status.containerStatuses[0].restartCount}')" -ge 1 ]
}
t "a failing postStart hook: an event, the container killed and restarted" until_ok 30 badhook
unsupported_hook() {
    K get events --field-selector involvedObject.name=sleephook,reason=FailedPostStartHook \
        -o jsonpath='{.items[*].message}' | grep -q 'reef runs exec and sleep lifecycle hooks only'
}
t "an httpGet hook is reported, not skipped in silence" until_ok 30 unsupported_hook
sleephook_running() { [ "$(K get pod sleephook -o jsonpath='{.status.containerStatuses[0].ready}')" = true ]; }
t "and the container runs on" until_ok 30 sleephook_running
preStop_sleep() {
    local t0=$SECONDS
    K delete pod sleephook --wait=true --timeout=60s > /dev/null || return 1
    echo "took $((SECONDS - t0)) s"
    [ $((SECONDS - t0)) -ge 2 ]
}
t "a preStop sleep holds the stop signal back for its seconds" preStop_sleep
t "delete them" K delete -f hooks.yaml --wait=true --timeout=60s --ignore-not-found

# ---- fsGroup and supplementalGroups ----
cat > groups.yaml << EOF
apiVersion: v1
kind: Secret
metadata: {name: gcreds}
data: {password: czNjcjN0}
---
apiVersion: v1
kind: Pod
metadata: {name: groups}
spec:
  restartPolicy: Never
  securityContext: {runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000, supplementalGroups: [3000]}
  volumes:
  - {name: work, emptyDir: {}}
  - {name: sec, secret: {secretName: gcreds, defaultMode: 0400}}
  containers:
  - name: app
    image: $R/busybox:latest
    command: ["sh", "-c", "id -G; cat /sec/password; echo; touch /work/f; stat -c %g /work/f"]
    volumeMounts: [{name: work, mountPath: /work}, {name: sec, mountPath: /sec}]
EOF
t "a pod with fsGroup and supplementalGroups" K apply -f groups.yaml
groups_done() { [ "$(K get pod groups -o jsonpath='{.status.phase}')" = Succeeded ]; }
t "it runs to the end" until_ok 30 groups_done
groups_log() {
    local out
    out=$(K logs groups)
    echo "$out"
    # the image's /etc/group may add its own groups for uid 1000's name
    echo "$out" | head -1 | grep -Eq '^1000( .*)? 2000 3000$' &&
        [ "$(echo "$out" | tail -n +2)" = "$(printf 's3cr3t\n2000')" ]
}
t "its groups, a 0400 secret readable through fsGroup, new files owned by fsGroup" groups_log
t "delete it" K delete -f groups.yaml --wait=true --timeout=60s

# ---- grpc probes: etcd (grpc-go's health service) from the node's files, in a pod ----
ETCD_LD=$(readelf -l /usr/bin/etcd | sed -n 's/.*interpreter: \(.*\)]$/\1/p')
ETCD_LIBC=$(ldd /usr/bin/etcd | awk '$1 ~ /^libc\.so/ {print $3}')
cat > grpc.yaml << EOF
apiVersion: v1
kind: Pod
metadata:
  name: grpc
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: etcd
    image: $R/busybox:latest
    command: [/usr/local/bin/etcd, --data-dir, /tmp/etcd, --listen-client-urls, "http://0.0.0.0:2379",
              --advertise-client-urls, "http://127.0.0.1:2379"]
    readinessProbe: {grpc: {port: 2379}, periodSeconds: 1}
    volumeMounts:
    - {name: etcd, mountPath: /usr/local/bin/etcd, readOnly: true}
    - {name: ld, mountPath: $ETCD_LD, readOnly: true}
    - {name: libc, mountPath: $ETCD_LIBC, readOnly: true}
  - name: asks
    image: $R/busybox:latest
    command: [sleep, "1000"]
    readinessProbe: {grpc: {port: 2379, service: no.such.Service}, periodSeconds: 1}
  volumes:
  - {name: etcd, hostPath: {path: /usr/bin/etcd, type: File}}
  - {name: ld, hostPath: {path: $ETCD_LD, type: File}}
  - {name: libc, hostPath: {path: $ETCD_LIBC, type: File}}
---
apiVersion: v1
kind: Pod
metadata:
  name: nofile
spec:
  containers:
  - name: app
    image: $R/busybox:latest
    volumeMounts: [{name: f, mountPath: /f}]
  volumes:
  - {name: f, hostPath: {path: $D/no-such-file, type: File}}
EOF
t "apply a pod running etcd with grpc readiness probes" K apply -f grpc.yaml
etcd_ready() { [ "$(K get pod grpc -o jsonpath='{.status.containerStatuses[?(@.name=="etcd")].ready}')" = true ]; }
t "a grpc probe of the server as a whole: SERVING, the container is ready" until_ok 30 etcd_ready
unknown_service() {
    [ "$(K get pod grpc -o jsonpath='{.status.containerStatuses[?(@.name=="asks")].ready}')" = false ] &&
        K get events --field-selector involvedObject.name=grpc,reason=Unhealthy \
            -o jsonpath='{.items[*].message}' |
        grep -q 'Readiness probe failed: error: health rpc probe failed: the server answered with an error status'
}
t "a grpc probe of a service etcd does not know fails, with an Unhealthy event" until_ok 20 unknown_service
nofile() {
    K get events --field-selector involvedObject.name=nofile -o jsonpath='{.items[*].message}' |
        grep -q "hostPath type check failed: $D/no-such-file is not a file"
}
t "a hostPath of type File that is missing: the pod is not started, an event says why" until_ok 20 nofile
t "delete them" K delete -f grpc.yaml --wait=true --timeout=60s

# ---- logs and exec through the API ----
logger_running() { K get pod logger -o jsonpath='{.status.phase}' | grep -qx Running; }
t "logger runs" until_ok 20 logger_running
t "kubectl logs --tail" sh -c \
    "$(declare -f K); KUBECTL='$KUBECTL' KCFG='$KCFG' D='$D'; sleep 1; K logs logger --tail=2 | wc -l | grep -qx 2"
follow() { timeout 5 "$KUBECTL" --kubeconfig "$KCFG" --cache-dir "$D/cache" logs -f logger --tail=1 | head -3 | wc -l | grep -qx 3; }
t "kubectl logs -f streams new lines" follow
t "kubectl logs --timestamps" sh -c \
    "$(declare -f K); KUBECTL='$KUBECTL' KCFG='$KCFG' D='$D'; K logs logger --tail=1 --timestamps | grep -Eq '^20[0-9-]+T[0-9:.]+Z line '"
exec_out() { test "$(K exec logger -- sh -c 'echo out; echo err >&2')" = out; }
t "kubectl exec runs a command in the pod" exec_out
t_expect_rc 3 "kubectl exec passes the exit code" K exec logger -- sh -c 'exit 3'
exec_tty() { script -qec "$KUBECTL --kubeconfig $KCFG --cache-dir $D/cache exec -it logger -- sh -c 'tty; exit 0'" /dev/null < /dev/null | grep -q '/dev/pts/'; }
t "kubectl exec -it gets a terminal" exec_tty
exec_size() { # the terminal has the client's size from the start
    local out
    out=$(script -qec "stty rows 33 cols 111; $1 -it logger -- stty size" /dev/null < /dev/null | tr -d '\r')
    echo "$out"
    echo "$out" | grep -q '33 111'
}
t "kubectl exec -it: the process starts with the client's terminal size" exec_size "$KUBECTL --kubeconfig $KCFG --cache-dir $D/cache exec"
t "reef exec -it: the same" exec_size "$REEF exec --kubeconfig $KCFG"
cp_from() { K cp logger:/etc/passwd "$D/passwd.copy" && grep -q '^root:' "$D/passwd.copy"; }
t "kubectl cp from a pod (tar through exec)" cp_from
cp_to() {
    head -c 100000 /dev/urandom > "$D/blob"
    K cp "$D/blob" logger:/tmp/blob && [ "$(K exec logger -- md5sum /tmp/blob | cut -d' ' -f1)" = "$(md5sum < "$D/blob" | cut -d' ' -f1)" ]
}
t "kubectl cp into a pod" cp_to
attach_out() {
    local out
    out=$(timeout 5 "$KUBECTL" --kubeconfig "$KCFG" --cache-dir "$D/cache" attach logger 2>&1 | head -3)
    echo "$out"
    [ "$(echo "$out" | grep -c '^line ')" -ge 2 ]
}
t "kubectl attach streams the container's output" attach_out
run_once() {
    local out
    out=$(timeout 60 "$KUBECTL" --kubeconfig "$KCFG" --cache-dir "$D/cache" run once -i --rm --restart=Never \
        --image="$R/busybox:latest" -- sh -c 'read x; echo "got $x"' <<< hello 2>&1)
    echo "$out"
    echo "$out" | grep -q '^got hello' && ! K get pod once > /dev/null 2>&1
}
t "kubectl run -i --rm: stdin in, output out, the pod deleted" run_once
run_tty() {
    local out
    out=$(script -qec "$KUBECTL --kubeconfig $KCFG --cache-dir $D/cache run oncetty -it --rm --restart=Never --image=$R/busybox:latest -- sh -c 'read x; tty; echo got \$x'" /dev/null <<< hello 2>&1 | tr -d '\r')
    echo "$out"
    echo "$out" | grep -q '^/dev/pts/' && echo "$out" | grep -q '^got hello' && ! K get pod oncetty > /dev/null 2>&1
}
t "kubectl run -it --rm: a terminal, input to it, the pod deleted" run_tty
. "$here/cluster_client.inc"

# ---- deletion and restart ----
t "delete the Deployment" K delete deployment web --wait=true --timeout=60s
gone() {
    [ -z "$(K get rs,pods -l app=web -o name)" ] && [ "$(RD ps -a | grep -c ' k8s_httpd_web-')" = 0 ]
}
t "its ReplicaSets, pods and containers are gone" until_ok 30 gone
LOGGER_ID=$(K get pod logger -o jsonpath='{.status.containerStatuses[0].containerID}')
t "stop the server" stop_server
still_running() {
    local id=${LOGGER_ID#reef://}
    RD ps | grep ' k8s_app_logger' | grep -q "^${id:0:12} "
}
t "the logger's container keeps running without the server" still_running
t "restart the server" start_node
adopted() {
    [ "$(K get pod logger -o jsonpath='{.status.containerStatuses[0].containerID}/{.status.containerStatuses[0].restartCount}/{.status.phase}')" = "$LOGGER_ID/0/Running" ]
}
t "the logger is adopted, not restarted" until_ok 20 adopted
t "nothing lost: the Service and pods are still there" sh -c \
    "$(declare -f K); KUBECTL='$KUBECTL' KCFG='$KCFG' D='$D'; K get svc web && K get pod unhealthy noimage huge logger"
t "deleting a pod stops its container" sh -c \
    "$(declare -f K RD); KUBECTL='$KUBECTL' KCFG='$KCFG' D='$D' REEF='$REEF'; K delete pod logger --wait=true --timeout=30s && ! RD ps | grep -q k8s_app_logger"
