#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

enum reef_log_level reef__log_level = REEF_LOG_INFO;
static char debug_modules[256];
static bool debug_all;

void reef_log_init(enum reef_log_level level, const char *mods)
{
    reef__log_level = level;
    if (!mods)
        mods = getenv("REEF_DEBUG");
    debug_all = false;
    debug_modules[0] = '\0';
    if (!mods)
        return;
    snprintf(debug_modules, sizeof(debug_modules), ",%s,", mods);
    debug_all = strstr(debug_modules, ",all,") != NULL;
}

bool reef_log_enabled(enum reef_log_level level, const char *module)
{
    if (level <= reef__log_level)
        return true;
    if (level != REEF_LOG_DEBUG || !debug_modules[0])
        return false;
    if (debug_all)
        return true;
    char key[64];
    int n = snprintf(key, sizeof(key), ",%s,", module);
    return n > 0 && (size_t)n < sizeof(key) && strstr(debug_modules, key) != NULL;
}

int reef_log_parse_level(const char *s, enum reef_log_level *out)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    for (size_t i = 0; i < REEF_ARRAY_LEN(names); i++) {
        if (strcasecmp(s, names[i]) == 0) {
            *out = (enum reef_log_level)i;
            return 0;
        }
    }
    return -EINVAL;
}

void reef_log_write(enum reef_log_level level, const char *module, const char *fmt, ...)
{
    static const char *tags[] = {"ERROR", "WARN ", "INFO ", "DEBUG"};
    char line[2048];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ %s %s: ", ts.tv_nsec / 1000000,
                          tags[level], module);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += (size_t)m;
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
}
