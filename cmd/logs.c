/* reef logs: a container's output, from its json-file log (with -f, as it arrives); for a pod
 * (kubectl's flags, TYPE/NAME, or a name no local container has) the API server's pods/log, as
 * kubectl logs prints it (cmd/kube_logs.c). */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "cmd/kube_pod.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/json.h"

extern const struct reef_cmd reef_cmd_logs;

struct logs_opts {
    bool follow, timestamps;
    long long tail; /* -1: all */
};

/* Prints one json-file line. */
static void print_line(const char *line, size_t len, const struct logs_opts *o)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&d, line, len, NULL, NULL) < 0)
        return;
    int lg = reef_json_member(&d, REEF_JSON_ROOT, "log");
    int st = reef_json_member(&d, REEF_JSON_ROOT, "stream");
    int tm = reef_json_member(&d, REEF_JSON_ROOT, "time");
    struct reef_buf text = REEF_BUF_INIT;
    if (lg >= 0 && reef_json_get_strbuf(&d, lg, &text, NULL) == 0) {
        FILE *f = st >= 0 && reef_json_str_eq(&d, st, "stderr") ? stderr : stdout;
        if (o->timestamps && tm >= 0) {
            char t[64] = "";
            reef_json_get_str(&d, tm, t, sizeof(t), NULL);
            fprintf(f, "%s ", t);
        }
        fwrite(text.data, 1, text.len, f);
        fflush(f);
    }
    reef_buf_free(&text);
    reef_json_doc_free(&d);
}

static int logs(int argc, char **argv)
{
    static const struct option opts[] = {{"follow", no_argument, NULL, 'f'},
                                         {"timestamps", no_argument, NULL, 't'},
                                         {"tail", required_argument, NULL, 'T'},
                                         {"data-dir", required_argument, NULL, 'D'},
                                         {0}};
    if (reef__kube_wants_pod(argc, argv, false))
        return reef__kube_logs_run(argc, argv);
    struct logs_opts o = {.tail = -1};
    const char *data_flag = NULL;
    int c;
    while ((c = reef_cmd_getopt(&reef_cmd_logs, argc, argv, "ft", opts)) != -1) {
        switch (c) {
        case 'h': return 0;
        case '?': return REEF_EXIT_USAGE;
        case 'f': o.follow = true; break;
        case 't': o.timestamps = true; break;
        case 'D': data_flag = optarg; break;
        case 'T':
            if (strcmp(optarg, "all") == 0)
                o.tail = -1;
            else if (reef_str_to_ll(optarg, 0, 1LL << 40, &o.tail) < 0)
                return reef_cmd_usage_error(&reef_cmd_logs, "invalid --tail \"%s\"", optarg);
            break;
        }
    }
    if (optind + 1 != argc)
        return reef_cmd_usage_error(&reef_cmd_logs, "name exactly one container");
    struct reef_err err = {0};
    struct reef_ctrstore *store;
    char id[REEF_CTR_ID_LEN + 1];
    if (reef_cmd_open_containers(reef_cmd_data_dir(data_flag), &store, &err) < 0 ||
        reef_ctr_resolve(store, argv[optind], id, &err) < 0) {
        reef_cmd_error("logs", &err);
        return 1;
    }
    char path[PATH_MAX - 16], rot[PATH_MAX];
    reef_ctr_path(store, id, "container.log", path, sizeof(path));
    /* Oldest first: .2, .1, then the current file. */
    struct reef_buf all = REEF_BUF_INIT;
    for (int i = 2; i >= 1; i--) {
        snprintf(rot, sizeof(rot), "%s.%d", path, i);
        reef_fs_read_file(rot, 64u << 20, &all, NULL); /* absent until rotated */
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char chunk[65536];
        ssize_t n;
        while ((n = read(fd, chunk, sizeof(chunk))) > 0)
            reef_buf_append(&all, chunk, (size_t)n);
    }
    /* Complete lines only; a partial last line is re-read when following. */
    size_t end = all.len;
    while (end > 0 && all.data[end - 1] != '\n')
        end--;
    off_t pos = fd >= 0 ? lseek(fd, 0, SEEK_CUR) - (off_t)(all.len - end) : 0;
    size_t start = 0;
    if (o.tail >= 0) {
        long long lines = 0;
        start = end;
        while (start > 0) {
            if (all.data[start - 1] == '\n' && start != end && ++lines >= o.tail)
                break;
            start--;
        }
        if (o.tail == 0)
            start = end;
    }
    for (size_t i = start; i < end;) {
        char *nl = memchr(all.data + i, '\n', end - i);
        size_t len = (size_t)(nl - (all.data + i));
        print_line(all.data + i, len, &o);
        i += len + 1;
    }
    reef_buf_free(&all);
    if (!o.follow) {
        if (fd >= 0)
            close(fd);
        reef_ctrstore_close(store);
        return 0;
    }
    /* Follow until the container is finished for good (its shim gone). */
    int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    int wd = in >= 0 && fd >= 0 ? inotify_add_watch(in, path, IN_MODIFY | IN_MOVE_SELF) : -1;
    struct reef_buf pending = REEF_BUF_INIT;
    bool last_round = false;
    for (;;) {
        bool rotated = false;
        char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        ssize_t got;
        while (in >= 0 && (got = read(in, ev, sizeof(ev))) > 0)
            for (char *p = ev; p < ev + got;) {
                struct inotify_event *e = (struct inotify_event *)p;
                if (e->mask & IN_MOVE_SELF)
                    rotated = true;
                p += sizeof(*e) + e->len;
            }
        if (fd < 0) {
            fd = open(path, O_RDONLY | O_CLOEXEC);
            pos = 0;
        }
        if (fd >= 0) {
            char chunk[65536];
            ssize_t n;
            while ((n = pread(fd, chunk, sizeof(chunk), pos)) > 0) {
                pos += n;
                reef_buf_append(&pending, chunk, (size_t)n);
            }
            size_t i = 0;
            char *nl;
            while ((nl = memchr(pending.data + i, '\n', pending.len - i))) {
                print_line(pending.data + i, (size_t)(nl - (pending.data + i)), &o);
                i = (size_t)(nl - pending.data) + 1;
            }
            reef_buf_consume(&pending, i);
        }
        if (rotated && fd >= 0) {
            close(fd);
            fd = -1;
            if (wd >= 0)
                inotify_rm_watch(in, wd);
            wd = inotify_add_watch(in, path, IN_MODIFY | IN_MOVE_SELF);
            continue;
        }
        if (last_round)
            break;
        if (!reef_ctr_shim_alive(store, id))
            last_round = true; /* one more read for what came before it exited */
        struct pollfd p = {in, POLLIN, 0};
        poll(&p, in >= 0 ? 1 : 0, 200);
    }
    reef_buf_free(&pending);
    if (fd >= 0)
        close(fd);
    if (in >= 0)
        close(in);
    reef_ctrstore_close(store);
    return 0;
}

const struct reef_cmd reef_cmd_logs = {
    .name = "logs",
    .summary = "print a container's or a pod's output",
    .usage = "usage: reef logs [-f] [-t] [--tail N] CONTAINER\n"
             "       reef logs [-f] [-p] [-c CONTAINER] [-n NS] POD|TYPE/NAME [CONTAINER]\n\n"
             "Prints what the container wrote to stdout and stderr (to the same streams).\n"
             "For a pod (kubectl's flags, TYPE/NAME, or a name no local container has): its log\n"
             "through the API server, as kubectl logs prints it.\n\n"
             "Options:\n"
             "  -f, --follow         keep printing new output until the container exits\n"
             "  -t, --timestamps     prefix each line with its time\n"
             "      --tail N         only the last N lines\n"
             "      --data-dir DIR   reef's state (default /var/lib/reef, or $REEF_DATA_DIR)\n"
             "Pods:\n"
             "  -c, --container C    the container (default: the pod's default container)\n"
             "      --all-containers every container of the pod\n"
             "  -p, --previous       the container's previous instance\n"
             "  -l, --selector SEL   the pods with these labels (last 10 lines each)\n"
             "      --since D, --since-time T, --limit-bytes N, --prefix, --max-log-requests N\n"
             "  -n, --namespace NS   the namespace\n"
             "      --kubeconfig F   the kubeconfig\n",
    .run = logs,
};
REEF_COMMAND(reef_cmd_logs);
