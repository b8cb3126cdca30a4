/* reef version: reef's own version, commit and build date, and every linked library's version. */
#include <archive.h>
#include <mbedtls/version.h>
#include <seccomp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <uv.h>
#include <yaml.h>
#include <zlib.h>
#include <zstd.h>

#include "buildinfo.h"
#include "cmd/cmd.h"

extern const struct reef_cmd reef_cmd_version;

static int run(int argc, char **argv)
{
    static const struct option opts[] = {{"short", no_argument, NULL, 's'}, {0}};
    int c, brief = 0;
    while ((c = reef_cmd_getopt(&reef_cmd_version, argc, argv, "s", opts)) != -1) {
        if (c == 'h')
            return 0;
        if (c == '?')
            return REEF_EXIT_USAGE;
        if (c == 's')
            brief = 1;
    }
    if (optind < argc)
        return reef_cmd_usage_error(&reef_cmd_version, "unexpected argument '%s'", argv[optind]);
    if (brief) {
        printf("%s\n", REEF_VERSION);
        return 0;
    }
    char tls[32];
    mbedtls_version_get_string(tls);
    const struct scmp_version *sv = seccomp_version();
    /* archive_version_string() is "libarchive 3.6.2"; print only the number. */
    const char *arch = archive_version_string();
    const char *sp = arch;
    while (*sp && *sp != ' ')
        sp++;
    printf("reef %s\n"
           "  commit:      %s\n"
           "  built:       %s\n"
           "  sqlite3:     %s\n"
           "  libuv:       %s\n"
           "  mbedtls:     %s\n"
           "  libarchive:  %s\n"
           "  libseccomp:  %u.%u.%u\n"
           "  libyaml:     %s\n"
           "  jsmn:        %s\n"
           "  zstd:        %s\n"
           "  zlib:        %s\n",
           REEF_VERSION, REEF_COMMIT, REEF_BUILD_DATE, sqlite3_libversion(), uv_version_string(),
           tls, *sp ? sp + 1 : arch, sv->major, sv->minor, sv->micro, yaml_get_version_string(),
           REEF_JSMN_VERSION, ZSTD_versionString(), zlibVersion());
    return 0;
}

const struct reef_cmd reef_cmd_version = {
    .name = "version",
    .summary = "print reef's version and the versions of its libraries",
    .usage = "usage: reef version [--short]\n"
             "\n"
             "Prints reef's version, git commit and build date, and the version of every library\n"
             "linked into the binary.\n"
             "\n"
             "Options:\n"
             "  -s, --short   print only reef's version number\n",
    .run = run,
};
REEF_COMMAND(reef_cmd_version);
