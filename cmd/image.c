/* reef image: pull, list, inspect, remove, prune, import, export and tag images in the local
 * store (<data-dir>/images). Exit status 0 on success, 1 on failure (the message names the image
 * and the reason), 2 on usage errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/buf.h"
#include "core/err.h"
#include "runtime/image_ref.h"
#include "cmd/common.h"
#include "runtime/images.h"

extern const struct reef_cmd reef_cmd_image;

static const char *data_dir; /* --data-dir, else $REEF_DATA_DIR, else /var/lib/reef */

static int open_store(struct reef_images **s)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/images", reef_cmd_data_dir(data_dir));
    struct reef_err err;
    reef_err_clear(&err);
    if (reef_images_open(dir, s, &err) < 0) {
        fprintf(stderr, "reef image: %s\n", err.msg);
        return 1;
    }
    return 0;
}

static int fail(const struct reef_err *err)
{
    fprintf(stderr, "reef image: %s\n", err->msg);
    return 1;
}

static int do_pull(int argc, char **argv)
{
    struct reef_pull_opts o = {0};
    bool quiet = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "--platform") == 0 || strcmp(a, "--parallel") == 0 ||
             strcmp(a, "--registries") == 0 || strcmp(a, "--timeout") == 0) &&
            i + 1 < argc) {
            const char *v = argv[++i];
            if (a[2] == 'p' && a[3] == 'l')
                o.platform = v;
            else if (a[2] == 'r')
                o.registries_yaml = v;
            else {
                long long n;
                if (reef_str_to_ll(v, 1, a[3] == 'a' ? 16 : 3600, &n) < 0)
                    return reef_cmd_usage_error(&reef_cmd_image, "bad value for %s: %s", a, v);
                if (a[3] == 'a')
                    o.parallel = (int)n;
                else
                    o.timeout_ms = (unsigned)n * 1000;
            }
            argv[i - 1] = argv[i] = NULL;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = true;
            argv[i] = NULL;
        } else if (a[0] == '-') {
            return reef_cmd_usage_error(&reef_cmd_image, "pull: unknown option %s", a);
        }
    }
    const char *ref = NULL;
    for (int i = 0; i < argc; i++) {
        if (!argv[i])
            continue;
        if (ref)
            return reef_cmd_usage_error(&reef_cmd_image, "pull takes one image");
        ref = argv[i];
    }
    if (!ref)
        return reef_cmd_usage_error(&reef_cmd_image, "pull: which image?");
    if (!quiet)
        o.progress = stderr;
    struct reef_images *s;
    if (open_store(&s))
        return 1;
    struct reef_err err;
    reef_err_clear(&err);
    struct reef_image *img = NULL;
    int rc = reef_images_pull(s, ref, &o, &img, &err);
    if (rc == 0) {
        printf("%s %s\n", img->name, img->id);
        reef_image_free(img);
    }
    reef_images_close(s);
    return rc < 0 ? fail(&err) : 0;
}

static void human(int64_t n, char *out, size_t sz)
{
    if (n >= 1 << 30)
        snprintf(out, sz, "%.1fGB", (double)n / 1e9);
    else if (n >= 1 << 20)
        snprintf(out, sz, "%.1fMB", (double)n / 1e6);
    else if (n >= 1024)
        snprintf(out, sz, "%.1fkB", (double)n / 1e3);
    else
        snprintf(out, sz, "%lldB", (long long)n);
}

static int ls_line(void *ud, const struct reef_image_summary *im)
{
    bool *quiet = ud;
    if (*quiet) {
        printf("%s\n", im->id);
        return 0;
    }
    char repo[600] = "<none>", tag[200] = "<none>";
    if (im->name[0]) {
        struct reef_image_ref r;
        if (reef_image_ref_parse(im->name, &r, NULL) == 0) {
            /* The repository as users write it: the familiar form without its tag. */
            char fam[600];
            struct reef_image_ref norm = r;
            norm.digest[0] = '\0';
            reef_strlcpy(norm.tag, "x", sizeof(norm.tag));
            if (reef_image_ref_familiar(&norm, fam, sizeof(fam)) > 2) {
                fam[strlen(fam) - 2] = '\0';
                reef_strlcpy(repo, fam, sizeof(repo));
            }
            if (!r.digest[0])
                reef_strlcpy(tag, r.tag, sizeof(tag));
        }
    }
    char size[32], created[32] = "";
    human(im->size, size, sizeof(size));
    if (im->created > 0) {
        time_t t = (time_t)im->created;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(created, sizeof(created), "%Y-%m-%d %H:%M", &tm);
    }
    printf("%-40s %-16s %-12.12s %-16s %-14s %s\n", repo, tag, im->id + 7, created, im->platform,
           size);
    return 0;
}

static int do_ls(int argc, char **argv)
{
    bool quiet = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0)
            quiet = true;
        else
            return reef_cmd_usage_error(&reef_cmd_image, "ls: unexpected argument %s", argv[i]);
    }
    struct reef_images *s;
    if (open_store(&s))
        return 1;
    if (!quiet)
        printf("%-40s %-16s %-12s %-16s %-14s %s\n", "REPOSITORY", "TAG", "IMAGE ID", "CREATED",
               "PLATFORM", "SIZE");
    struct reef_err err;
    reef_err_clear(&err);
    int rc = reef_images_list(s, ls_line, &quiet, &err);
    reef_images_close(s);
    return rc < 0 ? fail(&err) : 0;
}

static int do_inspect(int argc, char **argv)
{
    if (argc < 1)
        return reef_cmd_usage_error(&reef_cmd_image, "inspect: which image?");
    struct reef_images *s;
    if (open_store(&s))
        return 1;
    int ret = 0;
    struct reef_buf out = REEF_BUF_INIT;
    reef_buf_puts(&out, argc > 1 ? "[" : "");
    for (int i = 0; i < argc; i++) {
        struct reef_err err;
        reef_err_clear(&err);
        if (i > 0)
            reef_buf_puts(&out, ",\n");
        if (reef_images_inspect_json(s, argv[i], &out, &err) < 0) {
            ret = fail(&err);
            break;
        }
    }
    if (ret == 0) {
        reef_buf_puts(&out, argc > 1 ? "]" : "");
        printf("%s\n", out.data);
    }
    reef_buf_free(&out);
    reef_images_close(s);
    return ret;
}

static int do_rm(int argc, char **argv)
{
    if (argc < 1)
        return reef_cmd_usage_error(&reef_cmd_image, "rm: which image?");
    struct reef_images *s;
    if (open_store(&s))
        return 1;
    int ret = 0;
    for (int i = 0; i < argc; i++) {
        struct reef_err err;
        reef_err_clear(&err);
        if (reef_images_remove(s, argv[i], &err) < 0)
            ret = fail(&err);
        else
            printf("removed %s\n", argv[i]);
    }
    reef_images_close(s);
    return ret;
}

static int do_prune(int argc, char **argv)
{
    (void)argv;
    if (argc > 0)
        return reef_cmd_usage_error(&reef_cmd_image, "prune takes no arguments");
    struct reef_images *s;
    if (open_store(&s))
        return 1;
    struct reef_err err;
    reef_err_clear(&err);
    int64_t freed = 0;
    int rc = reef_images_prune(s, &freed, &err);
    reef_images_close(s);
    if (rc < 0)
        return fail(&err);
    char h[32];
    human(freed, h, sizeof(h));
    printf("freed %s\n", h);
    return 0;
}

static int do_import(int argc, char **argv)
{
    struct reef_pull_opts o = {0};
    const char *file = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--platform") == 0 && i + 1 < argc)
            o.platform = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1])
            return reef_cmd_usage_error(&reef_cmd_image, "import: unknown option %s", argv[i]);
        else if (file)
            return reef_cmd_usage_error(&reef_cmd_image, "import takes one file");
        else
            file = argv[i];
    }
    if (!file)
        return reef_cmd_usage_error(&reef_cmd_image, "import: which file?");
    struct reef_images *s;
    if (open_store(&s))
        return 1;
    struct reef_err err;
    reef_err_clear(&err);
    struct reef_buf names = REEF_BUF_INIT;
    int rc = reef_images_import(s, file, &o, &names, &err);
    if (rc == 0 && names.data)
        fputs(names.data, stdout);
    reef_buf_free(&names);
    reef_images_close(s);
    return rc < 0 ? fail(&err) : 0;
}

static int do_export(int argc, char **argv)
{
    if (argc != 2)
        return reef_cmd_usage_error(&reef_cmd_image, "export takes an image and a file");
    struct reef_images *s;
    if (open_store(&s))
        return 1;
    struct reef_err err;
    reef_err_clear(&err);
    int rc = reef_images_export(s, argv[0], argv[1], &err);
    reef_images_close(s);
    return rc < 0 ? fail(&err) : 0;
}

static int do_tag(int argc, char **argv)
{
    if (argc != 2)
        return reef_cmd_usage_error(&reef_cmd_image, "tag takes SOURCE and TARGET");
    struct reef_images *s;
    if (open_store(&s))
        return 1;
    struct reef_err err;
    reef_err_clear(&err);
    int rc = reef_images_tag(s, argv[0], argv[1], &err);
    reef_images_close(s);
    return rc < 0 ? fail(&err) : 0;
}

static int run(int argc, char **argv)
{
    /* Global options come before the subcommand; each subcommand reads its own. */
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(reef_cmd_image.usage, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc)
            data_dir = argv[++i];
        else if (strncmp(argv[i], "--data-dir=", 11) == 0)
            data_dir = argv[i] + 11;
        else
            return reef_cmd_usage_error(&reef_cmd_image, "unknown option %s", argv[i]);
    }
    if (i >= argc)
        return reef_cmd_usage_error(&reef_cmd_image, "which subcommand?");
    const char *sub = argv[i++];
    /* --data-dir may also follow the subcommand. */
    int n = 0;
    char **rest = calloc((size_t)(argc - i) + 1, sizeof(char *));
    if (!rest)
        return 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc)
            data_dir = argv[++i];
        else if (strncmp(argv[i], "--data-dir=", 11) == 0)
            data_dir = argv[i] + 11;
        else if (strcmp(argv[i], "--help") == 0) {
            free(rest);
            fputs(reef_cmd_image.usage, stdout);
            return 0;
        } else
            rest[n++] = argv[i];
    }
    int rc;
    if (strcmp(sub, "pull") == 0)
        rc = do_pull(n, rest);
    else if (strcmp(sub, "ls") == 0 || strcmp(sub, "list") == 0)
        rc = do_ls(n, rest);
    else if (strcmp(sub, "inspect") == 0)
        rc = do_inspect(n, rest);
    else if (strcmp(sub, "rm") == 0)
        rc = do_rm(n, rest);
    else if (strcmp(sub, "prune") == 0)
        rc = do_prune(n, rest);
    else if (strcmp(sub, "import") == 0)
        rc = do_import(n, rest);
    else if (strcmp(sub, "export") == 0)
        rc = do_export(n, rest);
    else if (strcmp(sub, "tag") == 0)
        rc = do_tag(n, rest);
    else
        rc = reef_cmd_usage_error(&reef_cmd_image, "unknown subcommand %s", sub);
    free(rest);
    return rc;
}

const struct reef_cmd reef_cmd_image = {
    .name = "image",
    .summary = "pull, list, inspect, remove, import and export images",
    .usage =
        "usage: reef image [--data-dir DIR] COMMAND ...\n"
        "\n"
        "Commands:\n"
        "  pull [--platform OS/ARCH[/VARIANT]] [--parallel N] [--timeout SECONDS]\n"
        "       [--registries FILE] [-q] REF     pull an image from its registry\n"
        "  ls [-q]                               list images\n"
        "  inspect REF...                        print images as JSON\n"
        "  rm REF...                             remove names; an image goes with its last name\n"
        "  prune                                 delete blobs and layers no image uses\n"
        "  import [--platform P] FILE            load a docker-save or OCI archive (tar, gzip,\n"
        "                                        zstd)\n"
        "  export REF FILE                       write an image as an OCI archive\n"
        "  tag SOURCE TARGET                     give an image another name\n"
        "\n"
        "Options:\n"
        "  --data-dir DIR   reef's data directory (default /var/lib/reef, or $REEF_DATA_DIR; images\n"
        "                   in DIR/images)\n"
        "\n"
        "Registries, mirrors, credentials and CAs come from /etc/reef/registries.yaml (k3s's\n"
        "format). Exit status: 0 ok, 1 failure, 2 usage error.\n",
    .run = run,
};
REEF_COMMAND(reef_cmd_image);
