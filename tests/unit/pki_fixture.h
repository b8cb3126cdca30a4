/* Helpers shared by the orchestrate/pki test programs (test_pki.c, test_pki_tls.c): temporary
 * directories removed at exit, the options and ensure call every test starts from, running a
 * command and writing a file. */
#ifndef REEF_TEST_PKI_FIXTURE_H
#define REEF_TEST_PKI_FIXTURE_H

#include "orchestrate/pki.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pthread.h>
#include <signal.h>
#include <uv.h>

#include "core/crypto.h"
#include "core/http_server.h"
#include "orchestrate/kubeconfig.h"
#include "tests/unit/test.h"

static char dir[64];
static char dirs[4][64];
static size_t n_dirs;
static struct reef_err err;

static void rm_dirs(void)
{
    for (size_t i = 0; i < n_dirs; i++) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dirs[i]);
        (void)system(cmd);
    }
}

static void make_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/reef-test-pki.XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    CHECK(n_dirs < REEF_ARRAY_LEN(dirs));
    if (n_dirs == 0)
        atexit(rm_dirs);
    memcpy(dirs[n_dirs++], dir, sizeof(dir));
}

static char *path(const char *name)
{
    static char p[8][160];
    static int i;
    char *r = p[i++ % 8];
    snprintf(r, 160, "%s/server/%s", dir, name);
    return r;
}

static const char *const addrs[] = {"192.168.5.10", "fd00:0:0::5"};
static const char *const sans[] = {"API.Example.com", "10.9.8.7"};

static struct reef_pki_opts opts(void)
{
    struct reef_pki_opts o = {
        .data_dir = dir,
        .tls_sans = sans,
        .n_tls_sans = 2,
        .hostname = "Node-1",
        .addresses = addrs,
        .n_addresses = 2,
    };
    return o;
}

static struct reef_pki *ensure(const struct reef_pki_opts *o)
{
    struct reef_pki *p = NULL;
    CHECK_OK(reef_pki_ensure(o, &p, &err), &err);
    CHECK(p != NULL);
    return p;
}

/* Runs a shell command and returns its standard output (caller frees). */
static char *run(const char *cmd)
{
    FILE *f = popen(cmd, "r");
    CHECK(f != NULL);
    struct reef_buf b = REEF_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        CHECK_INT(reef_buf_append(&b, chunk, n), ==, 0);
    int st = pclose(f);
    if (st != 0)
        TEST_FAIL("%s: exit status %d", cmd, st);
    return reef_buf_steal(&b);
}

static void write_text(const char *p, const char *text, mode_t mode)
{
    CHECK_OK(reef_cert_write_file(p, text, strlen(text), mode, &err), &err);
}

#endif
