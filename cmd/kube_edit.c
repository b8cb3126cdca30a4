/* reef edit: the object as YAML in $KUBE_EDITOR / $EDITOR, sent back as a two-way strategic
 * merge patch, as kubectl edit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/kube.h"
#include "core/json.h"
#include "core/yaml.h"
#include "orchestrate/smp.h"

extern const struct reef_cmd reef_cmd_edit;

static const char edit_header[] =
    "# Please edit the object below. Lines beginning with a '#' will be ignored,\n"
    "# and an empty file will abort the edit. If an error occurs while saving this file will be\n"
    "# reopened with the relevant failures.\n"
    "#\n";

static int edit_doc(void *ud, size_t index, const char *json, size_t len, int line)
{
    (void)line;
    struct reef_buf *out = ud;
    if (index > 0)
        return -EINVAL; /* one object was given, one must come back */
    return reef_buf_append(out, json, len);
}

static int run_editor(const char *file)
{
    const char *ed = getenv("KUBE_EDITOR");
    if (!ed || !*ed)
        ed = getenv("EDITOR");
    if (!ed || !*ed)
        ed = "vi";
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        /* as kubectl: words split at spaces, or, when the editor has quotes or backslashes, the
         * whole line given to the shell with the file name appended quoted */
        if (strpbrk(ed, "\"'\\")) {
            char *line = NULL;
            if (asprintf(&line, "%s \"%s\"", ed, file) >= 0)
                execl("/bin/sh", "sh", "-c", line, (char *)NULL);
        } else {
            execl("/bin/sh", "sh", "-c", "exec $0 \"$1\"", ed, file, (char *)NULL);
        }
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -errno;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -ECHILD;
}

static int run_edit(int argc, char **argv)
{
    struct reef_kube_one o = {0};
    int rc = reef__kube_one_options(&o, &reef_cmd_edit, argc, argv);
    if (rc >= 0)
        return rc;
    int i = optind;
    if (reef__kube_type_and_name(argc, argv, &i, &o.t, &o.name) || reef__kube_one_open(&o))
        return 1;
    struct reef_buf text, edited, json, patch;
    reef_buf_init(&text);
    reef_buf_init(&edited);
    reef_buf_init(&json);
    reef_buf_init(&patch);
    struct reef_http_result res = {0};
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    struct reef_err err = {0};
    char file[] = "/tmp/reef-edit-XXXXXX.yaml";
    int fd = -1;
    int status = reef__kube_one_get(&o, &res, &d);
    if (status)
        goto out;
    reef_buf_puts(&text, edit_header);
    reef_kube_put_yaml(&text, &d, REEF_JSON_ROOT);
    fd = mkstemps(file, 5);
    if (fd < 0 || write(fd, text.data, text.len) != (ssize_t)text.len) {
        status = reef_kube_fail("cannot write the temporary file");
        goto out;
    }
    close(fd);
    fd = -1;
    if (run_editor(file) < 0) {
        status = reef_kube_fail("the editor failed");
        goto out;
    }
    FILE *f = fopen(file, "re");
    char chunk[8192];
    size_t n;
    while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0 && edited.len < (64u << 20))
        reef_buf_append(&edited, chunk, n);
    if (f)
        fclose(f);
    if (reef_yaml_each(edited.data ? edited.data : "", edited.len, edit_doc, &json, &err) < 0) {
        fprintf(stderr, "error: %s\n", err.msg[0] ? err.msg : "the edited file is not one object");
        status = 1;
        goto out;
    }
    if (json.len == 0) {
        fprintf(stderr, "Edit cancelled, saved file was empty.\n");
        goto out;
    }
    /* the edit may change the object, not which object it is */
    struct reef_json_doc e = REEF_JSON_DOC_INIT;
    bool same = reef_json_parse(&e, json.data, json.len, NULL, NULL) == 0;
    static const char *const ids[] = {"apiVersion", "kind", "metadata.name"};
    for (size_t j = 0; same && j < sizeof(ids) / sizeof(ids[0]); j++) {
        int a = reef_json_find(&d, REEF_JSON_ROOT, ids[j], NULL);
        int b = reef_json_find(&e, REEF_JSON_ROOT, ids[j], NULL);
        same = a >= 0 && b >= 0 && reef_json_equal(&d, a, &e, b);
    }
    reef_json_doc_free(&e);
    if (!same) {
        fprintf(stderr, "error: the edited object must keep its apiVersion, kind and "
                        "metadata.name\n");
        status = 1;
        goto out;
    }
    char kind[128] = "";
    int v = reef_json_member(&d, REEF_JSON_ROOT, "kind");
    if (v >= 0)
        reef_json_get_str(&d, v, kind, sizeof(kind), NULL);
    if (reef_smp_create_two_way(kind[0] ? kind : o.t->kind, res.body, res.body_len, json.data,
                                json.len, &patch, &err) < 0) {
        status = reef_kube_fail(err.msg);
        goto out;
    }
    if (strcmp(patch.data, "{}") == 0) {
        fprintf(stderr, "Edit cancelled, no changes made.\n");
        goto out;
    }
    reef_http_result_free(&res);
    rc = reef_kube_do(&o.k, "PATCH", o.path.data, "application/json",
                      "application/strategic-merge-patch+json", patch.data, patch.len, &res, &err);
    status = reef__kube_status(rc, &res, &err);
    if (!status)
        printf("%s/%s edited\n", o.ref.data, o.name);
out:
    if (fd >= 0)
        close(fd);
    unlink(file);
    reef_json_doc_free(&d);
    reef_http_result_free(&res);
    reef_buf_free(&text);
    reef_buf_free(&edited);
    reef_buf_free(&json);
    reef_buf_free(&patch);
    reef__kube_one_close(&o);
    return status;
}

const struct reef_cmd reef_cmd_edit = {
    .name = "edit",
    .summary = "edit an object in $KUBE_EDITOR or $EDITOR, as kubectl edit",
    .usage = "usage: reef edit TYPE NAME|TYPE/NAME [-n NS] [--kubeconfig FILE]\n",
    .run = run_edit,
};
REEF_COMMAND(reef_cmd_edit);
