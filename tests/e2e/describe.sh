# End-to-end: `reef describe` against `reef server` on 127.0.0.1, compared with kubectl 1.32's
# describe of the same objects on the same server: stdout, stderr and exit status must be the
# same (only the node's pod ages are masked; events carry fixed past times, so their ages agree).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server.inc"

KUBECTL=${KUBECTL:-kubectl}
if ! command -v "$KUBECTL" > /dev/null 2>&1; then
    echo "not ok - kubectl is installed"
    exit 1
fi

tmpdir D
cd "$D" || exit 1
# times are printed in the local zone: one with an offset shows that both convert
export TZ=Asia/Kolkata

PORT=$(free_port)
KCFG=$D/admin.yaml
K() { "$KUBECTL" --kubeconfig "$KCFG" --cache-dir "$D/cache" "$@" < /dev/null; }
R() { "$REEF" "$1" --kubeconfig "$KCFG" "${@:2}"; }

start_server_api() { start_server --disable-agent --disable-controller-manager --disable-scheduler; }
defer stop_server
t "reef server starts and writes its kubeconfig" start_server_api

MASK=cat
# same ARGS...: reef describe and kubectl describe print the same stdout, stderr and exit status
same() {
    local rc kc
    R describe "$@" > "$D/r.out" 2> "$D/r.err"
    rc=$?
    K describe "$@" > "$D/k.out" 2> "$D/k.err"
    kc=$?
    if [ "$rc" != "$kc" ]; then
        printf 'exit status: reef %s, kubectl %s\n' "$rc" "$kc"
        cat "$D/r.err" "$D/k.err"
        return 1
    fi
    if ! diff <($MASK < "$D/r.out") <($MASK < "$D/k.out"); then
        echo "(stdout: reef <, kubectl >)"
        return 1
    fi
    if ! diff "$D/r.err" "$D/k.err"; then
        echo "(stderr: reef <, kubectl >)"
        return 1
    fi
    # a describe that printed nothing proves little
    [ -s "$D/k.out" ] || [ -s "$D/k.err" ]
}
has() { # STRING: in the last reef output
    grep -qF -- "$1" "$D/r.out" || {
        printf 'wanted: %s\ngot:\n' "$1"
        cat "$D/r.out"
        return 1
    }
}
uid() { K get "$@" -o jsonpath='{.metadata.uid}'; }
status() { K patch "$1" "$2" --subresource=status --type=merge -p "$3" > /dev/null; }

# ---- objects ----
cat > app.yaml << 'EOF'
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, labels: {app: web}}
data: {greeting: "hello\nworld"}
binaryData: {blob: aGVsbG8=}
---
apiVersion: v1
kind: Secret
metadata: {name: sec, annotations: {owner: "team-a"}}
type: Opaque
data: {password: cGFzc3dvcmQ=}
---
apiVersion: v1
kind: Secret
metadata: {name: tls, labels: {a: b}}
type: kubernetes.io/tls
data: {tls.crt: YWJj}
---
apiVersion: v1
kind: Secret
metadata: {name: token, annotations: {kubernetes.io/service-account.name: default}}
type: kubernetes.io/service-account-token
data: {token: ZXlKaGJHY2lPaUpTVXpJMU5pSjkuYWJj, ca.crt: YWJj, namespace: ZGVmYXVsdA==}
---
apiVersion: v1
kind: Namespace
metadata: {name: other, labels: {team: x}}
---
apiVersion: v1
kind: Service
metadata: {name: web, labels: {app: web}}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: np, annotations: {a: b}}
spec:
  type: NodePort
  selector: {app: web, tier: x}
  externalIPs: [1.2.3.4]
  ports: [{port: 80, targetPort: http, nodePort: 30080}, {name: dns, port: 53, protocol: UDP}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: web, labels: {app: web}}
subsets:
- addresses: [{ip: 10.42.0.7}, {ip: 10.42.0.8}]
  notReadyAddresses: [{ip: 10.42.0.9}]
  ports: [{name: http, port: 8080, protocol: TCP}]
- addresses: [{ip: 10.42.0.10}]
  ports: [{port: 9090, protocol: UDP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-abcde, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
- {addresses: [10.42.0.7], conditions: {ready: true}, nodeName: node1}
- {addresses: [10.42.0.8], conditions: {ready: true}}
- {addresses: [10.42.0.9], conditions: {ready: false}}
- {addresses: [10.42.0.10]}
- {addresses: [10.42.0.11]}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
  annotations:
    note: a short one
    long: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
    matchExpressions: [{key: tier, operator: NotIn, values: [z, "y"]}, {key: zone, operator: Exists}]
  template:
    metadata: {labels: {app: web, zone: a}, annotations: {checksum: "1"}}
    spec:
      serviceAccountName: web
      containers:
      - name: nginx
        image: nginx:1.27
        command: [sh, -c]
        args: ["echo hi\nsleep 1000"]
        ports: [{containerPort: 80}, {containerPort: 443, hostPort: 8443}]
        env:
        - {name: A, value: "1"}
        - {name: MULTI, value: "one\ntwo"}
        - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: S, valueFrom: {secretKeyRef: {name: sec, key: password}}}
        - {name: C, valueFrom: {configMapKeyRef: {name: cfg, key: greeting, optional: true}}}
        - {name: MEM, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
        - {name: CPU, valueFrom: {resourceFieldRef: {resource: requests.cpu, divisor: 1m}}}
        envFrom: [{configMapRef: {name: cfg}}, {prefix: X_, secretRef: {name: sec, optional: true}}]
        resources:
          limits: {cpu: 500m, memory: 128Mi}
          requests: {cpu: "0.25", memory: 64Mi}
        livenessProbe: {httpGet: {path: /healthz, port: 8080, scheme: HTTPS}, periodSeconds: 10}
        readinessProbe: {exec: {command: [cat, /tmp/ready]}, failureThreshold: 3}
        startupProbe: {tcpSocket: {port: http}, initialDelaySeconds: 2}
        volumeMounts:
        - {name: data, mountPath: /data}
        - {name: conf, mountPath: /etc/conf, readOnly: true, subPath: x}
      volumes:
      - {name: data, emptyDir: {sizeLimit: 1Gi}}
      - {name: conf, configMap: {name: cfg}}
      - {name: host, hostPath: {path: /var/log, type: Directory}}
      - {name: cred, secret: {secretName: sec, optional: true}}
      - {name: claim, persistentVolumeClaim: {claimName: pvc}}
      - name: info
        downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}
      tolerations: [{key: k, operator: Exists, effect: NoSchedule}, {operator: Exists}, {key: a, value: b}]
      nodeSelector: {disk: ssd}
---
apiVersion: v1
kind: Node
metadata:
  name: node1
  labels: {kubernetes.io/hostname: node1, node-role.kubernetes.io/control-plane: "", kubernetes.io/role: worker}
  annotations: {node.alpha.kubernetes.io/ttl: "0"}
spec:
  podCIDR: 10.42.0.0/24
  podCIDRs: [10.42.0.0/24]
  taints: [{key: dedicated, value: infra, effect: NoSchedule}, {key: a, effect: NoExecute}]
---
apiVersion: v1
kind: Node
metadata: {name: bare}
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: node1, namespace: kube-node-lease}
spec: {holderIdentity: node1, leaseDurationSeconds: 40, renewTime: "2026-01-02T12:00:00.000000Z"}
EOF
t "the objects are created" K apply -f app.yaml

DUID=$(uid deploy web)
# the deployment's replica sets: the current one (its template with the hash label), an old
# one that still has pods and one scaled to zero
rs() { # NAME HASH REPLICAS IMAGE
    K get deploy web -o json | python3 -c '
import json, sys
d = json.load(sys.stdin)
name, h, n, image = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
t = d["spec"]["template"]
t["metadata"]["labels"]["pod-template-hash"] = h
t["spec"]["containers"][0]["image"] = image
labels = dict(t["metadata"]["labels"])
print(json.dumps({"apiVersion": "apps/v1", "kind": "ReplicaSet",
  "metadata": {"name": name, "labels": labels,
    "annotations": {"deployment.kubernetes.io/revision": "1"},
    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
      "uid": d["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]},
  "spec": {"replicas": n, "selector": {"matchLabels": {"app": "web", "pod-template-hash": h}},
    "template": t}}))' "$@"
}
make_rs() {
    rs web-old1 111 1 nginx:1.25 > rs1.json && rs web-old0 000 0 nginx:1.24 > rs0.json &&
        rs web-cur 222 2 nginx:1.27 > rs2.json && K apply -f rs1.json -f rs0.json -f rs2.json &&
        status rs web-cur '{"status":{"replicas":2,"readyReplicas":1,"availableReplicas":1,"conditions":[{"type":"ReplicaFailure","status":"False","reason":"FailedCreate"}]}}' &&
        status deploy web '{"status":{"replicas":3,"updatedReplicas":2,"availableReplicas":1,"unavailableReplicas":2,"conditions":[{"type":"Available","status":"False","reason":"MinimumReplicasUnavailable","message":"m"},{"type":"Progressing","status":"True","reason":"ReplicaSetUpdated","message":"p"}]}}'
}
t "replica sets with owner references" make_rs
RSUID=$(uid rs web-cur)

cat > pods.yaml << EOF
apiVersion: v1
kind: Pod
metadata:
  name: web-cur-x1
  labels: {app: web, zone: a, pod-template-hash: "222"}
  annotations: {note: hi}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-cur, uid: $RSUID, controller: true}]
spec:
  nodeName: node1
  priority: 0
  serviceAccountName: default
  initContainers:
  - {name: init, image: busybox, command: ["true"]}
  containers:
  - name: nginx
    image: nginx:1.27
    ports: [{containerPort: 80}]
    env:
    - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
    - {name: L, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}}
    - {name: LIM, valueFrom: {resourceFieldRef: {resource: limits.cpu}}}
    resources: {requests: {cpu: 100m, memory: 1Gi}, limits: {cpu: "1", memory: 1Gi}}
    readinessProbe: {tcpSocket: {port: 80}, initialDelaySeconds: 5}
  - name: side
    image: busybox
    command: [sleep, "3600"]
    resources: {requests: {cpu: "0.5", memory: 1000Mi}}
  tolerations:
  - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 300}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-cur-x2
  labels: {app: web, zone: a, pod-template-hash: "222"}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-cur, uid: $RSUID, controller: true}]
spec:
  containers: [{name: nginx, image: nginx:1.27}]
---
apiVersion: v1
kind: Pod
metadata: {name: lone, namespace: other}
spec:
  nodeName: node1
  containers:
  - {name: a, image: x, resources: {requests: {cpu: "2", memory: 2Gi}, limits: {cpu: "2", memory: 2Gi}}}
EOF
t "pods are created" K apply -f pods.yaml
pod_status() {
    status pod web-cur-x1 '{"status":{"phase":"Running","hostIP":"10.0.0.5","podIP":"10.42.0.7","podIPs":[{"ip":"10.42.0.7"}],"startTime":"2026-01-02T10:00:00Z","qosClass":"Burstable","conditions":[{"type":"Initialized","status":"True"},{"type":"Ready","status":"False"},{"type":"PodScheduled","status":"True"}],"initContainerStatuses":[{"name":"init","ready":true,"restartCount":0,"image":"busybox","imageID":"sha256:99","containerID":"reef://i","state":{"terminated":{"exitCode":0,"reason":"Completed","startedAt":"2026-01-02T09:59:00Z","finishedAt":"2026-01-02T09:59:01Z"}}}],"containerStatuses":[{"name":"nginx","containerID":"reef://abc","image":"nginx:1.27","imageID":"sha256:1234","ready":true,"restartCount":2,"state":{"running":{"startedAt":"2026-01-02T10:00:05Z"}},"lastState":{"terminated":{"exitCode":137,"reason":"Error","signal":9,"startedAt":"2026-01-02T09:00:00Z","finishedAt":"2026-01-02T09:59:00Z","message":"killed"}}},{"name":"side","ready":false,"restartCount":0,"image":"busybox","imageID":"","state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}}' &&
        status pod web-cur-x2 '{"status":{"phase":"Pending","reason":"Unschedulable","message":"0/1 nodes are available"}}' &&
        K patch pod lone -n other --subresource=status --type=merge -p '{"status":{"phase":"Running"}}' &&
        status node node1 '{"status":{"capacity":{"cpu":"4","memory":"8049972Ki","pods":"110","ephemeral-storage":"102350Mi","hugepages-2Mi":"0"},"allocatable":{"cpu":"3500m","memory":"7Gi","pods":"110","ephemeral-storage":"99565351125","hugepages-2Mi":"0","example.com/gpu":"2"},"conditions":[{"type":"Ready","status":"True","lastHeartbeatTime":"2026-01-02T12:00:00Z","lastTransitionTime":"2026-01-02T11:00:00Z","reason":"KubeletReady","message":"kubelet is posting ready status"},{"type":"MemoryPressure","status":"False","lastHeartbeatTime":"2026-01-02T12:00:00Z","lastTransitionTime":"2026-01-02T11:00:00Z","reason":"KubeletHasSufficientMemory","message":"kubelet has sufficient memory available"}],"addresses":[{"type":"InternalIP","address":"10.0.0.5"},{"type":"Hostname","address":"node1"}],"nodeInfo":{"machineID":"m1","systemUUID":"u1","bootID":"b1","kernelVersion":"6.1.0","osImage":"Debian","operatingSystem":"linux","architecture":"amd64","containerRuntimeVersion":"reef://0.1","kubeletVersion":"v1.32.0","kubeProxyVersion":""}}}'
}
t "statuses are set through the status subresource" pod_status

NUID=$(uid node node1)
PUID=$(uid pod web-cur-x1)
event() { # NAME KIND OBJ NS UID TYPE REASON MESSAGE FIRST LAST COUNT [SOURCE]
    cat << EOF
---
apiVersion: v1
kind: Event
metadata: {name: $1, namespace: ${4:-default}}
involvedObject: {kind: $2, name: $3, namespace: "$4", uid: "$5"}
type: $6
reason: $7
message: "$8"
firstTimestamp: "$9"
lastTimestamp: "${10}"
count: ${11}
source: {component: ${12:-kubelet}}
EOF
}
{
    event d1 Deployment web default "$DUID" Normal ScalingReplicaSet "Scaled up replica set web-cur to 2 " 2024-01-01T00:00:00Z 2024-01-01T00:00:00Z 1 deployment-controller
    event d2 Deployment web default "$DUID" Normal ScalingReplicaSet "Scaled down replica set web-old0 to 0" 2023-05-01T00:00:00Z 2023-05-01T00:00:00Z 1 deployment-controller
    event p1 Pod web-cur-x1 default "$PUID" Warning BackOff "Back-off restarting failed container side" 2023-01-01T00:00:00Z 2025-06-01T00:00:00Z 3
    event p2 Pod web-cur-x1 default "other-uid" Warning Unrelated "not this pod" 2023-01-01T00:00:00Z 2025-06-01T00:00:00Z 1
    event n1 Node node1 "" node1 Normal Starting "Starting kubelet." 2024-03-01T00:00:00Z 2024-03-01T00:00:00Z 1
    event n2 Node node1 "" "$NUID" Normal RegisteredNode "Node node1 event" 2024-02-01T00:00:00Z 2024-02-01T00:00:00Z 1 node-controller
    event c1 ConfigMap cfg default "$(uid cm cfg)" Normal Updated "updated" 2024-01-01T00:00:00Z 2024-01-01T00:00:00Z 1 someone
    event c2 ConfigMap cfg default "$(uid cm cfg)" Warning Future "from the future" 2024-01-01T00:00:00Z 2099-01-01T00:00:00Z 2 someone
    cat << EOF
---
apiVersion: v1
kind: Event
metadata: {name: c3}
involvedObject: {kind: ConfigMap, name: cfg, namespace: default, uid: "$(uid cm cfg)"}
type: Normal
reason: Timeless
message: no time at all
---
apiVersion: v1
kind: Event
metadata: {name: p3}
involvedObject: {apiVersion: v1, kind: Pod, name: web-cur-x1, namespace: default, uid: $PUID}
type: Normal
reason: Scheduled
message: Successfully assigned default/web-cur-x1 to node1
reportingComponent: default-scheduler
reportingInstance: x
action: Binding
eventTime: "2022-01-01T00:00:00.000000Z"
EOF
} > events.yaml
t "events are created" K create -f events.yaml

# the less common fields: init containers, seccomp, probes of every kind, readiness gates,
# projected, NFS, CSI, image and RBD volumes, spread constraints, folded annotations
cat > more.yaml << 'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: fancy
  annotations:
    multi: "line one\nline two\n"
    long: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
    kubectl.kubernetes.io/last-applied-configuration: "{}"
  labels: {empty: ""}
spec:
  priorityClassName: high
  runtimeClassName: gvisor
  securityContext: {seccompProfile: {type: RuntimeDefault}}
  readinessGates: [{conditionType: example.com/ok}, {conditionType: other}]
  initContainers:
  - {name: init, image: busybox, command: ["sh", "-c", "true"], securityContext: {seccompProfile: {type: Localhost, localhostProfile: p.json}}}
  containers:
  - name: a
    image: x
    ports: [{containerPort: 53, protocol: UDP, name: dns}]
    livenessProbe: {grpc: {port: 9000, service: health}, timeoutSeconds: 3}
    startupProbe: {httpGet: {host: example.com, path: healthz, port: web}}
    volumeDevices: [{name: blk, devicePath: /dev/xvda}]
    env:
    - {name: EMPTY}
    - {name: REQ, valueFrom: {resourceFieldRef: {resource: requests.memory}}}
  topologySpreadConstraints:
  - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: x}}}
  - {maxSkew: 2, topologyKey: host, whenUnsatisfiable: ScheduleAnyway}
  volumes:
  - {name: proj, projected: {sources: [{secret: {name: s}}, {downwardAPI: {}}, {configMap: {name: c}}, {serviceAccountToken: {path: t, expirationSeconds: 3600}}]}}
  - {name: nfs, nfs: {server: 1.2.3.4, path: /x}}
  - {name: csi, csi: {driver: d.example.com, volumeAttributes: {a: b, c: d}}}
  - {name: img, image: {reference: "quay.io/x:1", pullPolicy: IfNotPresent}}
  - {name: rbd, rbd: {monitors: [a], image: i}}
---
apiVersion: v1
kind: Service
metadata: {name: lbsvc}
spec:
  type: LoadBalancer
  selector: {app: x}
  loadBalancerIP: 5.6.7.8
  externalTrafficPolicy: Local
  loadBalancerSourceRanges: [10.0.0.0/8, 192.168.0.0/16]
  ports: [{name: a, port: 80, nodePort: 30081}]
---
apiVersion: v1
kind: Service
metadata: {name: ext}
spec: {type: ExternalName, externalName: example.com}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: rec}
spec:
  selector: {matchLabels: {app: rec}}
  strategy: {type: Recreate}
  minReadySeconds: 5
  template:
    metadata: {labels: {app: rec}}
    spec: {containers: [{name: c, image: x}], initContainers: [{name: i, image: yy}], priorityClassName: p, serviceAccountName: sa}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: orphan}
spec:
  replicas: 0
  selector: {matchExpressions: [{key: app, operator: In, values: [b, a]}, {key: x, operator: DoesNotExist}]}
  template:
    metadata: {labels: {app: a}}
    spec: {containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Event
metadata: {name: series.1}
involvedObject: {kind: Service, name: ext, namespace: default}
type: Warning
reason: Sync
message: "  padded\n"
reportingComponent: svc-ctl
eventTime: "2022-01-01T00:00:00.000000Z"
series: {count: 5, lastObservedTime: "2024-01-01T00:00:00.000000Z"}
reportingInstance: i
action: A
YAML
more() {
    K apply -f more.yaml &&
        status svc lbsvc '{"status":{"loadBalancer":{"ingress":[{"ip":"9.9.9.9","ipMode":"VIP"},{"hostname":"lb.example.com"}]}}}' &&
        status pod fancy '{"status":{"phase":"Pending","conditions":[{"type":"example.com/ok","status":"True"}]}}'
}
t "more objects are created" more

# ---- each kind ----
t "describe pod" same pod web-cur-x1
t "describe pod: events, their ages and repeats" has "545d (x3 over 3y"
t "describe pod pending" same pod web-cur-x2
t "describe pod in another namespace" same pod lone -n other
t "describe pod with the less common fields" same pod fancy
t "describe LoadBalancer service" same svc lbsvc
t "describe ExternalName service" same svc ext
t "describe Recreate deployment" same deploy rec
t "describe replica set without owner" same rs orphan
t "describe event with a series" same ev series.1
t "describe pods (all of them, blank lines between)" same pods
t "describe pods -A" same pods -A
t "describe pods -l" same pods -l 'app=web,zone in (a,b)'
t "describe deployment" same deployment web
t "describe deployment: old and new replica sets" has "web-old1 (0/1 replicas created)"
t "describe replicaset" same rs web-cur
t "describe replicasets" same rs
t "describe service" same svc web
t "describe service: endpoints from its slices" has "10.42.0.7:8080,10.42.0.8:8080,10.42.0.10:8080 + 1 more..."
t "describe NodePort service" same svc np
t "describe endpoints" same endpoints web
t "describe endpointslice" same endpointslice web-abcde
t "describe configmap" same cm cfg
t "describe configmap: an event from the future" has "<invalid> (x2 over 2y"
t "describe configmap: an event without times" has "Normal   Timeless  <unknown>"
t "describe secret" same secret sec
t "describe secret: sizes, not values" has "password:  8 bytes"
t "describe tls secret" same secret tls
# kubectl walks the data in Go's random map order, reef in key order: the lines are compared sorted
MASK=sort
t "describe service account token secret (the token shown)" same secret token
MASK=cat
t "describe namespace" same ns other
t "describe namespaces" same ns
MASK="sed -E s/[0-9]+[smh]([0-9]+[sm])?\$/AGE/"
t "describe node (pod ages masked)" same node node1
MASK=cat
t "describe node without status or lease" same node bare
t "describe lease" same lease node1 -n kube-node-lease
t "describe event" same event p3
t "describe events in a namespace" same ev -n kube-system
t "describe TYPE/NAME" same deploy/web
t "describe several TYPE/NAME" same svc/web cm/cfg
MASK=sort
t "describe TYPE,TYPE" same cm,secrets
MASK=cat
t "describe TYPE,TYPE NAME" same svc,deploy web
t "describe TYPE,TYPE NAME NAME" same svc,deploy web nope
t "describe TYPE,TYPE NAME, one missing" same deploy,rs web
t "an empty type in a list" same pods,
t "describe a name prefix" same pods web-cur
t "describe with events hidden" same pod web-cur-x1 --show-events=false
t "describe with --show-events=F" same pods --show-events=F

# quantities as Go's resource.Quantity prints them: kept as written when canonical, else
# canonicalized (500m, 1Gi, 2k, 1e3), sums of two containers canonicalized too
quantities() {
    local i=0 pair cpu mem
    K create namespace q > /dev/null || return 1
    for pair in 0.5:1.5Gi 1000m:1024Mi 2000m:1000Mi 1.5:1e3 100:1G 0.001:1500k 1e-3:512 \
        +1:0.5Gi 01:1025Mi 1m:2048 3.14159:123456789 5k:1Ei 250u:1.1Ki 0:0.1; do
        cpu=${pair%%:*} mem=${pair#*:} i=$((i + 1))
        cat << EOF
---
apiVersion: v1
kind: Pod
metadata: {name: q$i, namespace: q}
spec:
  containers:
  - {name: a, image: x, resources: {requests: {cpu: "$cpu", memory: "$mem"}, limits: {cpu: "$cpu", memory: "$mem"}}}
  - {name: b, image: x, resources: {requests: {cpu: "$cpu", memory: "$mem"}}}
EOF
    done > q.yaml
    K apply -f q.yaml
}
t "pods with all kinds of quantities" quantities
t "describe quantities" same pods -n q

# the generic describer on fields of every JSON type and label spelling
cat > odd.json << 'JSON'
{"apiVersion": "v1", "kind": "Event", "metadata": {"name": "odd", "namespace": "default"},
 "involvedObject": {"kind": "Thing", "name": "x", "namespace": "default", "fieldPath": "spec.containers{a}"},
 "type": "Normal", "reason": "Odd", "message": "m", "count": 4, "series": null,
 "extra": {"f1": 1.5, "f2": 1e3, "f4": 0.00001, "f5": 100.25, "f6": -0.5, "f7": 2.5e10,
   "arr": [1, "a", [2, 3], {"k": true}], "nested": [[1.5]], "z": null,
   "mapinlist": [{"a": 1}, {"b": 2}], "e": [], "o": {}, "Big": 12345678901234567890,
   "camelCaseURLField": 1, "HTTPServer": 2, "with-dash": 3, "x_y": 4, "a1": 5, "apiUID": "u"}}
JSON
t "an event with odd fields is created" K create --validate=false -f odd.json
t "describe event with odd fields" same ev odd

# ---- bad input ----
t "a missing object" same pod nope
t_expect_rc 1 "a missing object exits 1" R describe pod nope
t "a missing TYPE/NAME is not a prefix" same pod/web
t "several missing names" same pods nope1 web-cur-x1 nope2
t "two TYPE/NAME, one missing: only the error, as kubectl" same pod/web-cur-x1 svc/nope
t "two TYPE/NAME, the first missing" same svc/nope pod/web-cur-x1
t "two TYPE/NAME, both missing" same svc/nope pod/nope
t "an unknown type" same foo
t "an unknown type in TYPE/NAME" same foo/bar
t_expect_rc 1 "an unknown type exits 1" R describe foo
t "no type at all" same
t "a name across all namespaces" same pod x -A
t "a name with a selector" same pod x -l a=b
t "nothing found" same pods -n nowhere
t "nothing found anywhere" same pods -A -l app=none
bad_flag() {
    R describe pods --show-events=maybe > "$D/r.out" 2>&1
    [ $? = 1 ] && grep -qF 'Error: invalid argument "maybe" for "--show-events" flag' "$D/r.out"
}
t "a bad --show-events" bad_flag
t "no service accounts on this server" same serviceaccounts
