/* log: leveled logging to stderr with key=value fields.
 *
 * Lines look like `2026-11-28T14:01:25.123Z INFO  http: listening addr=127.0.0.1 port=6443`.
 * The macros test the level before any formatting happens, so a disabled debug line costs one
 * branch. Debug output is switched on per module: REEF_DEBUG=http,raft (or "all") in the
 * environment, read by reef_log_init. Safe to call from any thread (one write(2) per line). */
#ifndef REEF_CORE_LOG_H
#define REEF_CORE_LOG_H

#include <stdbool.h>

#include "core/err.h"

enum reef_log_level { REEF_LOG_ERROR = 0, REEF_LOG_WARN, REEF_LOG_INFO, REEF_LOG_DEBUG };

extern enum reef_log_level reef__log_level;

/* level: the threshold for all modules. debug_modules: comma-separated module names that log at
 * DEBUG regardless of level ("all" for every module); NULL reads $REEF_DEBUG. */
void reef_log_init(enum reef_log_level level, const char *debug_modules);
bool reef_log_enabled(enum reef_log_level level, const char *module);
/* Parses "error", "warn", "info", "debug". Returns 0 or -EINVAL. */
int reef_log_parse_level(const char *s, enum reef_log_level *out);
void reef_log_write(enum reef_log_level level, const char *module, const char *fmt, ...)
    REEF_PRINTF(3, 4);

#define REEF_LOG(lvl, mod, ...)                                                                   \
    do {                                                                                          \
        if (reef_log_enabled((lvl), (mod)))                                                       \
            reef_log_write((lvl), (mod), __VA_ARGS__);                                            \
    } while (0)
#define LOG_ERROR(mod, ...) REEF_LOG(REEF_LOG_ERROR, mod, __VA_ARGS__)
#define LOG_WARN(mod, ...) REEF_LOG(REEF_LOG_WARN, mod, __VA_ARGS__)
#define LOG_INFO(mod, ...) REEF_LOG(REEF_LOG_INFO, mod, __VA_ARGS__)
#define LOG_DEBUG(mod, ...) REEF_LOG(REEF_LOG_DEBUG, mod, __VA_ARGS__)

#endif
