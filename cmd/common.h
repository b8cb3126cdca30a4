/* Helpers shared by reef's commands: the data directory, the stores under it. */
#ifndef REEF_CMD_COMMON_H
#define REEF_CMD_COMMON_H

#include <stddef.h>

#include "core/err.h"
#include "runtime/ctrstore.h"
#include "runtime/images.h"

#define REEF_DEFAULT_DATA_DIR "/var/lib/reef"

/* The data directory: --data-dir when given, else $REEF_DATA_DIR, else /var/lib/reef. */
const char *reef_cmd_data_dir(const char *flag);
/* <data>/<sub> into out. */
void reef_cmd_data_path(const char *data, const char *sub, char *out, size_t outsz);

int reef_cmd_open_containers(const char *data, struct reef_ctrstore **out, struct reef_err *err);
int reef_cmd_open_images(const char *data, struct reef_images **out, struct reef_err *err);

/* "SIGTERM", "TERM", "term", "15" -> 15; -1 for anything else. */
int reef_cmd_parse_signal(const char *s);

/* Prints "reef <cmd>: <message>" to stderr. */
void reef_cmd_error(const char *cmd, const struct reef_err *err);

/* "2 hours ago", "About a minute ago", "Less than a second ago" from unix ns, as docker ps. */
void reef_cmd_ago(int64_t then_ns, char *out, size_t outsz);
/* "Up 5 minutes", "Exited (0) 2 seconds ago" */
void reef_cmd_duration(int64_t ns, char *out, size_t outsz);

#endif
