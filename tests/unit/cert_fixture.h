/* Helpers shared by the core/cert test programs (test_cert.c, test_cert_issue.c): a temporary
 * directory removed at exit, files, running openssl, and the CAs and certificate specs to issue
 * from. */
#ifndef REEF_TEST_CERT_FIXTURE_H
#define REEF_TEST_CERT_FIXTURE_H

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "core/buf.h"
#include "core/cert.h"
#include "core/crypto.h"
#include "tests/unit/test.h"

extern char **environ;

static char tmpdir[64];

static void make_tmpdir(void)
{
    strcpy(tmpdir, "/tmp/reef-test-cert-XXXXXX");
    CHECK(mkdtemp(tmpdir) != NULL);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_tmpdir(void)
{
    nftw(tmpdir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static char *path_in(const char *name)
{
    static char bufs[8][256];
    static int next;
    char *p = bufs[next++ % 8];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    return p;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    CHECK(fputs(text, f) >= 0);
    CHECK(fclose(f) == 0);
}

/* Runs argv (argv[0] looked up in PATH) with stdout and stderr captured into *out (caller frees).
 * Returns the exit status. A missing program fails the test. */
static int run(const char *const argv[], char **out)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    pid_t pid;
    int r = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (r != 0)
        TEST_FAIL("cannot run %s: %s (openssl is a required test dependency)", argv[0],
                  strerror(r));
    struct reef_buf b = REEF_BUF_INIT;
    char chunk[4096];
    ssize_t n;
    while ((n = read(fds[0], chunk, sizeof(chunk))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        CHECK(n > 0);
        CHECK(reef_buf_append(&b, chunk, (size_t)n) == 0);
    }
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        CHECK(errno == EINTR);
    char *s = reef_buf_steal(&b);
    if (out)
        *out = s;
    else
        free(s);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#define OPENSSL(out, ...) run((const char *const[]){"openssl", __VA_ARGS__, NULL}, out)

static void check_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        TEST_FAIL("expected \"%s\" in:\n%s", needle, hay);
}

static void save_cert(const struct reef_cert *c, const char *path)
{
    struct reef_err err = {0};
    char *pem;
    size_t len;
    CHECK_OK(reef_cert_to_pem(c, &pem, &len, &err), &err);
    CHECK_OK(reef_cert_write_file(path, pem, len, 0644, &err), &err);
    free(pem);
}

static struct reef_ca *new_ca(const char *cn)
{
    struct reef_err err = {0};
    struct reef_ca *ca;
    CHECK_OK(reef_cert_ca_create(cn, 3650, 0, &ca, &err), &err);
    return ca;
}

static struct reef_cert *issue(const struct reef_ca *ca, const struct reef_cert_spec *spec,
                               struct reef_key **key_out)
{
    struct reef_err err = {0};
    struct reef_key *key;
    struct reef_cert *cert;
    CHECK_OK(reef_cert_key_generate(&key, &err), &err);
    CHECK_OK(reef_cert_issue(ca, spec, key, &cert, &err), &err);
    if (key_out)
        *key_out = key;
    else
        reef_cert_key_free(key);
    return cert;
}

static const char *const server_dns[] = {"reef.local", "*.svc.cluster.local", "localhost",
                                         "kubernetes.default.svc"};
static const char *const server_ips[] = {"10.43.0.1", "127.0.0.1", "::1", "fd00:10::1"};

static struct reef_cert_spec server_spec(void)
{
    struct reef_cert_spec s = {
        .cn = "reef-server",
        .dns = server_dns,
        .n_dns = REEF_ARRAY_LEN(server_dns),
        .ips = server_ips,
        .n_ips = REEF_ARRAY_LEN(server_ips),
        .usage = REEF_CERT_SERVER,
        .days = 365,
    };
    return s;
}

static const char *const admin_orgs[] = {"system:masters", "reef:admins"};

static struct reef_cert_spec client_spec(void)
{
    struct reef_cert_spec s = {
        .cn = "admin",
        .orgs = admin_orgs,
        .n_orgs = REEF_ARRAY_LEN(admin_orgs),
        .usage = REEF_CERT_CLIENT,
        .days = 30,
    };
    return s;
}

#endif
