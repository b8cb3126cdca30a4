#include "cmd/common.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char *reef_cmd_data_dir(const char *flag)
{
    if (flag && flag[0])
        return flag;
    const char *env = getenv("REEF_DATA_DIR");
    return env && env[0] ? env : REEF_DEFAULT_DATA_DIR;
}

void reef_cmd_data_path(const char *data, const char *sub, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s/%s", data, sub);
}

int reef_cmd_open_containers(const char *data, struct reef_ctrstore **out, struct reef_err *err)
{
    char p[4096];
    reef_cmd_data_path(data, "containers", p, sizeof(p));
    return reef_ctrstore_open(p, out, err);
}

int reef_cmd_open_images(const char *data, struct reef_images **out, struct reef_err *err)
{
    char p[4096];
    reef_cmd_data_path(data, "images", p, sizeof(p));
    return reef_images_open(p, out, err);
}

void reef_cmd_error(const char *cmd, const struct reef_err *err)
{
    fprintf(stderr, "reef %s: %s\n", cmd, err->msg[0] ? err->msg : "failed");
}

void reef_cmd_duration(int64_t ns, char *out, size_t outsz)
{
    int64_t s = ns / 1000000000;
    if (s < 1)
        snprintf(out, outsz, "Less than a second");
    else if (s < 60)
        snprintf(out, outsz, "%lld second%s", (long long)s, s == 1 ? "" : "s");
    else if (s < 120)
        snprintf(out, outsz, "About a minute");
    else if (s < 3600)
        snprintf(out, outsz, "%lld minutes", (long long)(s / 60));
    else if (s < 7200)
        snprintf(out, outsz, "About an hour");
    else if (s < 172800)
        snprintf(out, outsz, "%lld hours", (long long)(s / 3600));
    else
        snprintf(out, outsz, "%lld days", (long long)(s / 86400));
}

void reef_cmd_ago(int64_t then_ns, char *out, size_t outsz)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    char d[64];
    reef_cmd_duration(now - then_ns, d, sizeof(d));
    snprintf(out, outsz, "%s ago", d);
}

int reef_cmd_parse_signal(const char *s)
{
    static const struct {
        const char *name;
        int sig;
    } sigs[] = {{"HUP", SIGHUP},   {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"KILL", SIGKILL},
                {"USR1", SIGUSR1}, {"USR2", SIGUSR2},   {"TERM", SIGTERM}, {"STOP", SIGSTOP},
                {"CONT", SIGCONT}, {"WINCH", SIGWINCH}, {"PWR", SIGPWR},   {"ALRM", SIGALRM}};
    long long n;
    if (reef_str_to_ll(s, 1, NSIG - 1, &n) == 0)
        return (int)n;
    const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
    for (size_t i = 0; i < REEF_ARRAY_LEN(sigs); i++)
        if (strcasecmp(name, sigs[i].name) == 0)
            return sigs[i].sig;
    return -1;
}
