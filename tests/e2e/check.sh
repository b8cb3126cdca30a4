#!/bin/bash
# reef check on this machine's real kernel, its command-line behaviour, and a fake Raspberry Pi
# root (through the hidden --root option) whose kernel lacks the memory controller.
. "$(dirname "$0")/lib.sh"

# The layout this machine should report, worked out independently from mountinfo: v1 mounts
# that carry a controller, and any cgroup2 mount.
expected_layout() {
    awk '{
        for (i = 1; i <= NF; i++) if ($i == "-") break
        fstype = $(i + 1); super = $(i + 3)
        if (fstype == "cgroup2") v2 = 1
        if (fstype == "cgroup" && super ~ /(^|,)(cpu|cpuacct|cpuset|memory|devices|freezer|net_cls|net_prio|blkio|perf_event|hugetlb|pids|rdma|misc)(,|$)/) v1 = 1
    } END {
        if (v1 && v2) print "hybrid"; else if (v1) print "v1"; else if (v2) print "v2"; else print "none"
    }' /proc/self/mountinfo
}
layout=$(expected_layout)
echo "# this machine's cgroup layout: $layout"

t_expect_rc 0 "check passes on this machine" "$REEF" check
t "table reports the $layout cgroup layout" \
    bash -c '"$1" check | grep -E "^cgroup layout +ok +required +$2"' _ "$REEF" "$layout"
t "table has the items and a verdict" bash -c '
    out=$("$1" check)
    for item in "namespace mount" "namespace user" "cgroup memory" "cgroup pids" overlayfs veth \
        bridge vxlan nf_tables "nf_tables nat" "nf_tables masquerade" seccomp "seccomp filter" \
        ip_forward; do
        grep -q "^$item  " <<<"$out" || { echo "no line for $item"; echo "$out"; exit 1; }
    done
    grep -q "^ok: this kernel has everything reef requires$" <<<"$out"' _ "$REEF"
t "--json reports the layout" \
    bash -c '"$1" check --json | grep -q "\"cgroup\":{\"layout\":\"$2\""' _ "$REEF" "$layout"
t "--json says passed" bash -c '"$1" check --json | grep -q "\"passed\":true"' _ "$REEF"
if command -v python3 > /dev/null; then
    t "--json is valid JSON" bash -c '"$1" check --json | python3 -m json.tool > /dev/null' _ "$REEF"
else
    t_skip "--json is valid JSON" "python3 is not installed"
fi
if [ "$(cat /proc/sys/net/ipv4/ip_forward)" = 0 ]; then
    t "ip_forward off is a note" bash -c '"$1" check | grep -E "^ip_forward +note +optional +off"' \
        _ "$REEF"
fi

t_expect_rc 0 "--help exits 0" "$REEF" check --help
t "--help prints the usage" bash -c '"$1" check --help | grep -q "^usage: reef check \[--json\]"' \
    _ "$REEF"
t_expect_rc 2 "an unknown flag exits 2" "$REEF" check --no-such-flag
t "an unknown flag is named" \
    bash -c '"$1" check --no-such-flag 2>&1 | grep -q "unknown option .--no-such-flag."' _ "$REEF"
t_expect_rc 2 "an extra argument exits 2" "$REEF" check extra
t_expect_rc 1 "a missing --root directory exits 1" "$REEF" check --root /nonexistent/reef-root

# A Raspberry Pi 4 on current Raspberry Pi OS before the cmdline fix: cgroup v2 only, the memory
# controller switched off at boot.
tmpdir pi
mk() { mkdir -p "$(dirname "$pi/$1")" && printf "%b" "$2" > "$pi/$1"; }
mk proc/sys/kernel/osrelease '6.6.31+rpt-rpi-v8\n'
for ns in mnt pid net uts ipc user cgroup; do mk "proc/self/ns/$ns" ''; done
mk proc/self/status 'Name:\treef\nSeccomp:\t0\nSeccomp_filters:\t0\n'
mk proc/self/mountinfo '30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n'
mk proc/cgroups '#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t0\t80\t1\ncpu\t0\t80\t1\nmemory\t0\t80\t0\npids\t0\t80\t1\n'
mk sys/fs/cgroup/cgroup.controllers 'cpuset cpu io pids\n'
mk proc/filesystems 'nodev\tcgroup2\n\text4\nnodev\toverlay\n'
mk proc/cmdline 'coherent_pool=1M 8250.nr_uarts=0 cgroup_disable=memory console=tty1\n'
mk proc/sys/net/ipv4/ip_forward '0\n'
mk proc/device-tree/model 'Raspberry Pi 4 Model B Rev 1.5\0'
mk boot/firmware/cmdline.txt 'console=serial0,115200 console=tty1 root=PARTUUID=abc-02 rootwait\n'
mk lib/modules/6.6.31+rpt-rpi-v8/modules.builtin 'kernel/net/netfilter/nf_tables.ko\n'
mk lib/modules/6.6.31+rpt-rpi-v8/modules.dep 'kernel/drivers/net/veth.ko.xz:\nkernel/net/bridge/bridge.ko.xz:\nkernel/drivers/net/vxlan/vxlan.ko.xz:\nkernel/net/netfilter/nft_chain_nat.ko.xz:\nkernel/net/netfilter/nft_masq.ko.xz:\n'

t_expect_rc 1 "a Pi without the memory controller fails" "$REEF" check --root "$pi"
t "the Pi hint names the flags and the file" bash -c '
    out=$("$1" check --root "$2")
    grep -q "^cgroup memory  *missing  *required" <<<"$out" &&
    grep -q "cgroup_memory=1 cgroup_enable=memory" <<<"$out" &&
    grep -q "/boot/firmware/cmdline.txt" <<<"$out" &&
    grep -q "^failed: 1 required item missing: cgroup memory$" <<<"$out" &&
    grep -q "^veth  *ok (module)  *required" <<<"$out"' _ "$REEF" "$pi"
t "the output ends with a newline" \
    bash -c '"$1" check --root "$2" | tail -c 1 | od -An -c | grep -q "\\\\n"' _ "$REEF" "$pi"
t "the Pi --json fails too" bash -c '
    out=$("$1" check --json --root "$2"); rc=$?
    [ $rc = 1 ] && grep -q "\"raspberry_pi\":true,\"passed\":false" <<<"$out"' _ "$REEF" "$pi"

# After the fix (memory on), the same Pi passes.
mk proc/cgroups '#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t0\t80\t1\ncpu\t0\t80\t1\nmemory\t0\t80\t1\npids\t0\t80\t1\n'
mk sys/fs/cgroup/cgroup.controllers 'cpuset cpu io memory pids\n'
t_expect_rc 0 "the Pi passes once the memory controller is on" "$REEF" check --root "$pi"
