# End-to-end: reef run and the container commands, with real containers from the test images
# (pulled from a registry on 127.0.0.1). Runs as root; everything it makes is removed at exit.
. "$(dirname "$0")/lib.sh"
. "$REEF_SRC/tests/images/registry.sh"

if [ "$(id -u)" != 0 ]; then
    echo "not ok - containers: needs root"
    exit 1
fi
for tool in docker-registry skopeo busybox; do
    command -v "$tool" > /dev/null || { echo "not ok - containers: $tool is not installed"; exit 1; }
done

tmpdir W
chmod 0711 "$W" # containers with --userns run as uid 100000 and must walk to their files
export REEF_DATA_DIR=$W/data
PROBE=$REEF_SRC/build/helpers/sysprobe
"$REEF_SRC/tests/images/mkimage.sh" "$W/img" > /dev/null
registry_start "$W/reg" || { echo "not ok - containers: registry did not start"; exit 1; }
defer registry_stop
registry_push "$W/img/oci/busybox" test/busybox:latest
registry_push "$W/img/oci/layered" test/layered:latest
BB=$REGISTRY_ADDR/test/busybox:latest
LAYERED=$REGISTRY_ADDR/test/layered:latest
"$REEF" image pull --data-dir "$REEF_DATA_DIR" "$LAYERED" > /dev/null 2>&1
# However the test ends: no container, cgroup or mount of ours is left.
defer '$REEF rm -f $($REEF ps -aq) > /dev/null 2>&1'
CG_BEFORE=$(find /sys/fs/cgroup -maxdepth 3 -type d -path '*/reef/*' 2>/dev/null | wc -l)

run() { "$REEF" run --rm "$@"; }
out_is() { # expected, command...
    local want=$1 got
    shift
    got=$("$@" 2>&1)
    [ "$got" = "$want" ] || { printf 'want: %s\ngot:  %s\n' "$want" "$got"; return 1; }
}

t "run pulls a missing image" sh -c '"$REEF" run --rm "$0" true 2>&1 | grep -q "Unable to find image"' "$BB"
t "output round trip" out_is "hello world" run "$BB" echo hello world
t_expect_rc 0 "exit status 0" run "$BB" true
t_expect_rc 1 "exit status 1" run "$BB" false
t_expect_rc 3 "exit status 3" run "$BB" sh -c 'exit 3'
t_expect_rc 127 "command not found is 127" run "$BB" nosuchcommand
t "command not found says so" sh -c '"$REEF" run --rm "$0" nosuchcommand 2>&1 | grep -q "executable file not found"' "$BB"
t_expect_rc 126 "not executable is 126" run "$BB" /etc/passwd
t_expect_rc 137 "killed is 137" run "$BB" sh -c 'sh -c "kill -9 \$\$"; exit $?'
t "stdin with -i" out_is "piped" sh -c 'echo piped | "$REEF" run --rm -i "$0" cat' "$BB"
t "PID 1 inside" out_is "1" run "$BB" sh -c 'echo $$'
t "hostname is the short ID" sh -c 'h=$("$REEF" run --rm "$0" hostname); [ ${#h} = 12 ]' "$BB"
t "--network host: the host's name, /sys read-only" sh -c '[ "$("$REEF" run --rm --network host "$0" hostname)" = "$(hostname)" ] && "$REEF" run --rm --network host "$0" touch /sys/x 2>&1 | grep -q "Read-only file system"' "$BB"
t "--hostname" out_is "box1" run --hostname box1 "$BB" hostname
t "env from image and -e" out_is "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin x=1" \
    run -e x=1 "$BB" sh -c 'echo $PATH x=$x'
t "--env-file" sh -c 'printf "A=from-file\n# comment\n\nB=2\n" > "$1/env"; [ "$("$REEF" run --rm --env-file "$1/env" "$0" sh -c "echo \$A\$B")" = from-file2 ]' "$BB" "$W"
t "WorkingDir and User from the image" out_is "/data 1000" run "$LAYERED" sh -c 'echo $(pwd) $(id -u)'
t "whiteout and opaque dir from layers" out_is "b dir dir/y" run "$LAYERED" sh -c 'ls /data | tr "\n" " " | sed "s/ $//"; echo " dir/$(ls /data/dir)"'
t "-u by name with groups from the image" out_is "uid=1000(app) gid=1000(app) groups=50(staff)" run -u app "$BB" id
t "-u uid:gid" out_is "4242 4243" run -u 4242:4243 "$BB" sh -c 'echo $(id -u) $(id -g)'
t "-u unknown name fails" sh -c '"$REEF" run --rm -u ghost "$0" true 2>&1 | grep -q "unable to find user ghost"' "$BB"
t_expect_rc 125 "-u unknown name exits 125" run -u ghost "$BB" true
t "-w creates the directory" out_is "/made/here" run -w /made/here "$BB" pwd
t "--entrypoint" out_is "from entrypoint" run --entrypoint echo "$BB" from entrypoint
t "HOME from passwd" out_is "/home/app" run -u app "$BB" sh -c 'echo $HOME'
t "default capabilities" out_is "CapEff:	00000000a80425fb" run "$BB" grep CapEff /proc/self/status
t "--cap-drop ALL --cap-add" out_is "CapEff:	0000000000000400" run --cap-drop ALL --cap-add NET_BIND_SERVICE "$BB" grep CapEff /proc/self/status
t "no_new_privs is set" out_is "NoNewPrivs:	1" run "$BB" grep NoNewPrivs /proc/self/status
t "seccomp is on" out_is "Seccomp:	2" run "$BB" grep '^Seccomp:' /proc/self/status
t "seccomp denies unshare" out_is "EPERM" run -v "$(dirname "$PROBE"):/probe:ro" "$BB" /probe/sysprobe unshare
t "seccomp denies mount" out_is "EPERM" run -v "$(dirname "$PROBE"):/probe:ro" "$BB" /probe/sysprobe mount
t "seccomp denies keyctl" out_is "EPERM" run -v "$(dirname "$PROBE"):/probe:ro" "$BB" /probe/sysprobe keyctl
t "unconfined allows keyctl" out_is "ok" run --security-opt seccomp=unconfined -v "$(dirname "$PROBE"):/probe:ro" "$BB" /probe/sysprobe keyctl
t "--userns remap: root inside, uid 100000 outside" out_is "0 0 100000 65536 0" run --userns remap "$BB" sh -c 'echo $(id -u) $(awk "{print \$1, \$2, \$3}" /proc/self/uid_map) $(stat -c %u /bin/busybox)'
t "--userns remap: writes belong to the mapped root on the host" sh -c '
    id=$("$REEF" run -d --userns remap "$0" sh -c "echo x > /root/made; sleep 100")
    sleep 0.5
    owner=$(stat -c %u "$REEF_DATA_DIR/containers/$id/upper/root/made")
    pid=$("$REEF" inspect "$id" | sed -n "s/.*\"Pid\": \([0-9]*\).*/\1/p")
    puid=$(awk "/^Uid:/{print \$2}" /proc/$pid/status)
    inside=$("$REEF" exec "$id" id -u)
    "$REEF" rm -f "$id" > /dev/null
    echo "owner=$owner puid=$puid inside=$inside"; [ "$owner" = 100000 ] && [ "$puid" = 100000 ] && [ "$inside" = 0 ]' "$BB"
t "--userns on an unreachable data dir says why" sh -c '
    mkdir -m 0700 "$1/locked" && REEF_DATA_DIR=$1/locked/data "$REEF" run --rm --userns remap "$0" true 2>&1 | grep -q "cannot be entered by the container.s root"' "$BB" "$W"
t "--userns bad value" sh -c '"$REEF" run --rm --userns nope "$0" true 2>&1 | grep -q "invalid --userns"' "$BB"
cat > "$W/profile.json" << 'EOF'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}
EOF
t "--security-opt seccomp=PROFILE.json applies it" sh -c '"$REEF" run --rm --security-opt "seccomp=$1/profile.json" "$0" mkdir /x 2>&1 | grep -q "Function not implemented"' "$BB" "$W"
t "a custom profile replaces the default" out_is "ok" run --security-opt "seccomp=$W/profile.json" -v "$(dirname "$PROBE"):/probe:ro" "$BB" /probe/sysprobe keyctl
echo '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_BOGUS"}]}' > "$W/bad-profile.json"
t "a bad profile is refused naming the entry" sh -c '"$REEF" run --rm --security-opt "seccomp=$1/bad-profile.json" "$0" true 2>&1 | grep -q "syscalls\[0\].action"' "$BB" "$W"
t "masked /proc paths" sh -c '[ -z "$("$REEF" run --rm "$0" cat /proc/keys)" ]' "$BB"
t "read-only /proc/sys" sh -c '"$REEF" run --rm "$0" sh -c "echo 1 > /proc/sys/kernel/domainname" 2>&1 | grep -q "Read-only file system"' "$BB"
t "/dev is minimal" out_is "console? full null ptmx pts random shm tty urandom zero" run "$BB" sh -c 'for f in console full null ptmx pts random shm tty urandom zero; do [ -e /dev/$f ] && printf "%s " $f || printf "%s? " $f; done | sed "s/ $//"'
t "--read-only" sh -c '"$REEF" run --rm --read-only "$0" touch /x 2>&1 | grep -q "Read-only file system"' "$BB"
t "--read-only keeps --tmpfs writable" out_is "ok" run --read-only --tmpfs /scratch "$BB" sh -c 'touch /scratch/x && echo ok'
mkdir -p "$W/vol"
echo host-data > "$W/vol/in"
t "bind mount read-write" sh -c '"$REEF" run --rm -v "$1/vol:/v" "$0" sh -c "cat /v/in; echo from-ctr > /v/out" | grep -q host-data && grep -q from-ctr "$1/vol/out"' "$BB" "$W"
t "bind mount read-only" sh -c '"$REEF" run --rm -v "$1/vol:/v:ro" "$0" touch /v/x 2>&1 | grep -q "Read-only file system"' "$BB" "$W"
t "/etc/hosts and resolv.conf" sh -c '"$REEF" run --rm "$0" sh -c "grep -q localhost /etc/hosts && test -e /etc/resolv.conf && echo yes" | grep -q yes' "$BB"
t "/etc/hostname and /etc/hosts name the host" out_is "box2 127.0.1.1 box2" run --hostname box2 "$BB" sh -c 'echo $(cat /etc/hostname) $(grep 127.0.1.1 /etc/hosts)'
t "a container's config has no pod namespaces or labels of its own" sh -c '
    id=$("$REEF" run -d "$0" true); c="$REEF_DATA_DIR/containers/$id/config.json"
    grep -q "\"netns\":\"\",\"ipcns\":\"\",\"utsns\":\"\",\"labels\":\[\],\"groupsAdd\":\[\],\"sysctls\":\[\],\"noEtcFiles\":false" "$c"
    r=$?; "$REEF" rm -f "$id" > /dev/null; exit $r' "$BB"
t "a configuration from before pods still loads and runs" sh -c '
    rm -f "$1/vol/runs"
    id=$("$REEF" run -d -v "$1/vol:/v" "$0" sh -c "echo ran >> /v/runs")
    c="$REEF_DATA_DIR/containers/$id/config.json"
    "$REEF" wait "$id" > /dev/null && sed -i "s/,\"netns\".*}\$/}/" "$c" && ! grep -q netns "$c" &&
    "$REEF" inspect "$id" > /dev/null &&
    "$REEF" shim --containers "$REEF_DATA_DIR/containers" --detached "$id" &&
    [ "$(cat "$1/vol/runs")" = "ran
ran" ]
    r=$?; "$REEF" rm -f "$id" > /dev/null; exit $r' "$BB" "$W"
t_expect_rc 137 "OOM kill under --memory 16m" run --memory 16m "$BB" sh -c 'x=a; while :; do x=$x$x; done'
t "OOMKilled recorded" sh -c '"$REEF" run --name oomer --memory 16m "$0" sh -c "x=a; while :; do x=\$x\$x; done"; "$REEF" inspect oomer | grep -q "\"OOMKilled\": true"; r=$?; "$REEF" rm oomer > /dev/null; exit $r' "$BB"
t "fork bomb stopped by --pids-limit" sh -c '"$REEF" run --rm --pids-limit 10 "$0" sh -c "for i in \$(seq 30); do sleep 5 & done; wait" 2>&1 | grep -q "can.t fork"' "$BB"
t "CPU quota applied and throttling" sh -c '
    id=$("$REEF" run -d --cpus 0.25 "$0" sh -c "while :; do :; done")
    sleep 1
    cg=$(find /sys/fs/cgroup -maxdepth 3 -type d -name "$id" | grep -E "/cpu(,cpuacct)?/" | head -1)
    [ -z "$cg" ] && cg=$(find /sys/fs/cgroup -maxdepth 3 -type d -name "$id" | head -1)
    q=$(cat "$cg/cpu.cfs_quota_us" 2>/dev/null || cut -d" " -f1 "$cg/cpu.max")
    t=$(grep nr_throttled "$cg/cpu.stat" | cut -d" " -f2)
    "$REEF" rm -f "$id" > /dev/null
    echo "quota=$q throttled=$t"; [ "$q" = 25000 ] && [ "$t" -gt 0 ]' "$BB"
t "bad --memory value" sh -c '"$REEF" run --rm --memory lots "$0" true 2>&1 | grep -q "invalid --memory"; [ $? = 0 ]' "$BB"
t_expect_rc 125 "bad --memory exits 125" run --memory lots "$BB" true
t_expect_rc 125 "unknown image exits 125" run "$REGISTRY_ADDR/test/nosuch:latest" true
t "volume source that does not exist" sh -c '"$REEF" run --rm -v /nonexistent/x:/x "$0" true 2>&1 | grep -q "host path /nonexistent/x"' "$BB"
t "entrypoint missing from the image" sh -c '"$REEF" run --rm --entrypoint /nope "$0" 2>&1 | grep -q "/nope"' "$BB"

# detached containers, names, logs, exec, stop, restart
t "run -d prints the ID" sh -c 'id=$("$REEF" run -d --name web "$0" sh -c "trap \"echo term; exit 0\" TERM; echo started; while :; do sleep 0.2; done"); [ ${#id} = 64 ]' "$BB"
t "name already in use" sh -c '"$REEF" run -d --name web "$0" true 2>&1 | grep -q "already in use"' "$BB"
t "ps shows it running" sh -c '"$REEF" ps | grep web | grep -q " Up "'
t "an ID prefix works" sh -c 'id=$("$REEF" ps -q | head -1); "$REEF" inspect "${id%????????}" | grep -q "\"Running\": true"'
t "logs" sh -c 'sleep 0.5; "$REEF" logs web | grep -q started'
t "exec into a running container" out_is "sh web-exec" sh -c '"$REEF" exec web sh -c "cat /proc/1/comm; echo web-exec" | tr "\n" " " | sed "s/ $//"'
t "exec exit status" sh -c '"$REEF" exec web sh -c "exit 9"; [ $? = 9 ]'
t "exec of a missing command is 127" sh -c '"$REEF" exec web nosuch 2> /dev/null; [ $? = 127 ]'
t "exec -t gets a terminal of the container" out_is "/dev/pts/0" sh -c '"$REEF" exec -t web tty | tr -d "\r"'
t "exec -u" out_is "1000" sh -c '"$REEF" exec -u app web id -u'
t "stop runs the trap" sh -c '"$REEF" stop web > /dev/null && "$REEF" logs web | grep -q term && "$REEF" inspect web | grep -q "\"ExitCode\": 0"'
t "logs -f streams until the container exits" sh -c '
    "$REEF" run -d --name counter "$0" sh -c "for i in 1 2 3; do echo line \$i; sleep 0.3; done" > /dev/null
    [ "$(timeout 20 "$REEF" logs -f counter | tr "\n" " ")" = "line 1 line 2 line 3 " ]' "$BB"
t "logs --tail and -t" sh -c '[ "$("$REEF" logs --tail 1 counter)" = "line 3" ] && "$REEF" logs -t counter | head -1 | grep -Eq "^20[0-9-]+T[0-9:.]+Z line 1"'
t "stop kills what ignores SIGTERM after the timeout" sh -c '
    "$REEF" run -d --name stubborn "$0" sh -c "trap \"\" TERM; while :; do sleep 0.2; done" > /dev/null
    start=$(date +%s%N); "$REEF" stop -t 1 stubborn > /dev/null; end=$(date +%s%N)
    "$REEF" inspect stubborn | grep -q "\"ExitCode\": 137" && [ $(( (end - start) / 1000000 )) -ge 900 ]' "$BB"
t "restart policy on-failure:3 counts restarts" sh -c '
    "$REEF" run -d --name flaky --restart on-failure:3 "$0" sh -c "exit 2" > /dev/null
    [ "$(timeout 30 "$REEF" wait flaky)" = 2 ] && "$REEF" inspect flaky | grep -q "\"RestartCount\": 3"' "$BB"
t "kill sends SIGKILL" sh -c '
    "$REEF" run -d --name killme "$0" sleep 1000 > /dev/null
    "$REEF" kill killme > /dev/null && [ "$(timeout 20 "$REEF" wait killme)" = 137 ]' "$BB"
t "kill -s sends the signal named" sh -c '
    "$REEF" run -d --name usr1 "$0" sh -c "trap \"exit 42\" USR1; while :; do sleep 0.1; done" > /dev/null
    sleep 0.3; "$REEF" kill -s USR1 usr1 > /dev/null && [ "$(timeout 20 "$REEF" wait usr1)" = 42 ]' "$BB"
t "rm refuses a running container" sh -c '
    "$REEF" run -d --name busy "$0" sleep 1000 > /dev/null
    ! "$REEF" rm busy 2> /dev/null && "$REEF" rm -f busy > /dev/null && ! "$REEF" inspect busy > /dev/null 2>&1' "$BB"
t "detached containers survive their client and their shim" sh -c '
    "$REEF" run -d --name survivor "$0" sleep 1000 > /dev/null
    id=$("$REEF" inspect survivor | sed -n "s/.*\"Id\": \"\([0-9a-f]*\)\".*/\1/p")
    pid=$("$REEF" inspect survivor | sed -n "s/.*\"Pid\": \([0-9]*\).*/\1/p")
    spid=$(sed -n "s/.*\"shimPid\":\([0-9]*\).*/\1/p" "$REEF_DATA_DIR/containers/$id/state.json")
    kill -9 "$spid"; sleep 0.3
    kill -0 "$pid" && "$REEF" ps | grep survivor | grep -q "shim lost" &&
        "$REEF" rm -f survivor > /dev/null &&
        { [ ! -e /proc/$pid ] || grep -q "^State:.*Z" /proc/$pid/status; }' "$BB"
t "killing the client of a foreground container leaves it running" sh -c '
    "$REEF" run --name fg "$0" sleep 1000 > /dev/null 2>&1 &
    client=$!
    for i in $(seq 50); do "$REEF" ps | grep -q " fg$" && break; sleep 0.1; done
    kill -9 $client; sleep 0.3
    "$REEF" ps | grep " fg$" | grep -q " Up " && "$REEF" rm -f fg > /dev/null' "$BB"
t "attach follows a detached container to its exit" sh -c '
    "$REEF" run -d --name ticker "$0" sh -c "sleep 0.5; echo tick; sleep 0.3; exit 6" > /dev/null
    out=$(timeout 20 "$REEF" attach ticker); rc=$?
    [ "$out" = tick ] && [ $rc = 6 ]' "$BB"
t "run -d -i keeps stdin open; attach feeds it, as docker attach" sh -c '
    "$REEF" run -d -i --name reader "$0" sh -c "read x; echo \"got \$x\"; read y; echo \"and \$y\"; exit 4" > /dev/null
    echo one | timeout 20 "$REEF" attach reader > /dev/null 2>&1 &
    for i in $(seq 50); do "$REEF" logs reader | grep -q "^got one" && break; sleep 0.1; done
    # the first attachment fed stdin until its input ended; the next one takes over
    out=$(echo two | timeout 20 "$REEF" attach reader 2>&1); rc=$?
    echo "$out"; wait
    [ "$rc" = 4 ] && [ "$out" = "and two" ] && "$REEF" rm -f reader > /dev/null' "$BB"
t "attach: 300 kB from a file into a container that reads late arrive whole" sh -c '
    head -c 300000 /dev/urandom > "$1/attach.in"
    "$REEF" run -d -i --name slowreader "$0" sh -c "sleep 1; head -c 300000 | md5sum" > /dev/null
    out=$(timeout 30 "$REEF" attach slowreader < "$1/attach.in"); rc=$?
    "$REEF" rm -f slowreader > /dev/null
    [ "$rc" = 0 ] && [ "${out%% *}" = "$(md5sum < "$1/attach.in" | cut -d" " -f1)" ]' "$BB" "$W"
t "stats --no-stream" sh -c '
    "$REEF" run -d --name statme "$0" sleep 1000 > /dev/null
    "$REEF" stats --no-stream statme | grep -q statme; r=$?; "$REEF" rm -f statme > /dev/null; exit $r' "$BB"
t "-it runs with a terminal and gets Ctrl-C" sh -c '
    python3 - "$REEF" "$0" <<"PY"
import fcntl, os, pty, struct, sys, termios, time, select
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 37, 101, 0, 0))
    os.execv(sys.argv[1], [sys.argv[1], "run", "--rm", "-it", sys.argv[2], "sh", "-c", "tty; sleep 0.3; stty size; trap \"echo INTERRUPTED; exit 0\" INT; echo READY; while :; do sleep 0.1; done"])
out = b""
deadline = time.time() + 20
while b"READY" not in out and time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.5)
    if r: out += os.read(fd, 4096)
os.write(fd, b"\x03")
while b"INTERRUPTED" not in out and time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.5)
    if r:
        try: out += os.read(fd, 4096)
        except OSError: break
_, status = os.waitpid(pid, 0)
print(out.decode(errors="replace"))
sys.exit(0 if b"/dev/pts/0" in out and b"37 101" in out and b"INTERRUPTED" in out and os.WEXITSTATUS(status) == 0 else 1)
PY' "$BB"

"$REEF" rm -f $("$REEF" ps -aq) > /dev/null 2>&1
t "nothing left behind" sh -c '
    [ -z "$("$REEF" ps -aq)" ] || exit 1
    n=$(find /sys/fs/cgroup -maxdepth 3 -type d -path "*/reef/*" 2>/dev/null | wc -l); [ "$n" -le "$0" ] || { echo "cgroups left: $n (before: $0)"; exit 1; }
    ! grep -q "$1" /proc/self/mountinfo' "$CG_BEFORE" "$W"
