/* images_manifest: reading image manifests, indexes and configs (OCI and Docker schema 2), with
 * the validation every document from a registry or an archive gets before anything is fetched. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "runtime/blobstore.h"
#include "runtime/images.h"
#include "runtime/platform.h"
#include "runtime/registry.h"

#define MAX_LAYERS 1000

static bool layer_type_known(const char *mt)
{
    static const char *const known[] = {
        REEF_MT_OCI_LAYER,
        REEF_MT_OCI_LAYER_GZIP,
        REEF_MT_OCI_LAYER_ZSTD,
        REEF_MT_DOCKER_LAYER,
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.docker.image.rootfs.diff.tar.zstd",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(mt, known[i]) == 0)
            return true;
    return false;
}

static int get_desc(const struct reef_json_doc *d, int v, const char *what, struct reef__desc *out,
                    struct reef_err *err)
{
    if (reef_json_kind(d, v) != REEF_JSON_OBJECT)
        return reef_err_set(err, -EINVAL, "%s: not an object", what);
    int mt = reef_json_member(d, v, "mediaType");
    int dg = reef_json_member(d, v, "digest");
    int sz = reef_json_member(d, v, "size");
    if (mt < 0 || reef_json_get_str(d, mt, out->media_type, sizeof(out->media_type), NULL) < 0)
        return reef_err_set(err, -EINVAL, "%s: no mediaType", what);
    if (dg < 0 || reef_json_get_str(d, dg, out->digest, sizeof(out->digest), NULL) < 0 ||
        !reef_digest_valid(out->digest))
        return reef_err_set(err, -EINVAL, "%s: missing or unsupported digest", what);
    if (sz < 0 || reef_json_get_int(d, sz, &out->size, NULL) < 0 || out->size < 0)
        return reef_err_set(err, -EINVAL, "%s: missing or invalid size", what);
    return 0;
}

void reef__manifest_free(struct reef__manifest *m)
{
    free(m->layers);
    m->layers = NULL;
    m->nlayers = 0;
}

int reef__manifest_parse(const char *json, size_t len, struct reef__manifest *out,
                         struct reef_err *err)
{
    memset(out, 0, sizeof(*out));
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    int rc = reef_json_parse(&d, json, len, NULL, err);
    if (rc < 0)
        return reef_err_wrap(err, "manifest");
    int64_t sv = 0;
    int v = reef_json_member(&d, REEF_JSON_ROOT, "schemaVersion");
    if (v < 0 || reef_json_get_int(&d, v, &sv, NULL) < 0 || sv != 2) {
        rc = reef_err_set(err, -EPROTONOSUPPORT, "manifest: schemaVersion must be 2");
        goto out;
    }
    v = reef_json_member(&d, REEF_JSON_ROOT, "mediaType");
    char mt[128];
    if (v >= 0 && reef_json_get_str(&d, v, mt, sizeof(mt), NULL) == 0 &&
        reef_registry_manifest_kind(mt) != 1) {
        rc = reef_err_set(err, -EPROTONOSUPPORT, "manifest: unsupported media type \"%s\"", mt);
        goto out;
    }
    v = reef_json_member(&d, REEF_JSON_ROOT, "config");
    if (v < 0) {
        rc = reef_err_set(err, -EINVAL, "manifest: no config");
        goto out;
    }
    if ((rc = get_desc(&d, v, "manifest: config", &out->config, err)) < 0)
        goto out;
    if (strcmp(out->config.media_type, REEF_MT_OCI_CONFIG) != 0 &&
        strcmp(out->config.media_type, REEF_MT_DOCKER_CONFIG) != 0) {
        rc = reef_err_set(err, -EPROTONOSUPPORT, "manifest: unsupported config media type \"%s\"",
                          out->config.media_type);
        goto out;
    }
    int ls = reef_json_member(&d, REEF_JSON_ROOT, "layers");
    if (ls < 0 || reef_json_kind(&d, ls) != REEF_JSON_ARRAY) {
        rc = reef_err_set(err, -EINVAL, "manifest: no layers");
        goto out;
    }
    int n = reef_json_count(&d, ls);
    if (n < 1 || n > MAX_LAYERS) {
        rc = reef_err_set(err, -EINVAL, "manifest: %d layers (1 to %d allowed)", n, MAX_LAYERS);
        goto out;
    }
    out->layers = calloc((size_t)n, sizeof(*out->layers));
    if (!out->layers) {
        rc = reef_err_set(err, -ENOMEM, "manifest: out of memory");
        goto out;
    }
    struct reef_json_iter it = reef_json_iter(&d, ls);
    while (reef_json_next(&d, &it)) {
        char what[64];
        snprintf(what, sizeof(what), "manifest: layer %d", it.index);
        struct reef__desc *l = &out->layers[out->nlayers];
        if ((rc = get_desc(&d, it.val, what, l, err)) < 0)
            goto out;
        if (!layer_type_known(l->media_type)) {
            rc = reef_err_set(err, -EPROTONOSUPPORT, "%s: unsupported media type \"%s\"", what,
                              l->media_type);
            goto out;
        }
        out->nlayers++;
    }
out:
    reef_json_doc_free(&d);
    if (rc < 0)
        reef__manifest_free(out);
    return rc;
}

int reef__index_pick(const char *json, size_t len, const char *platform, char *digest,
                     char *media_type, struct reef_err *err)
{
    struct reef_platform want;
    if (platform) {
        int rc = reef_platform_parse(platform, &want, err);
        if (rc < 0)
            return rc;
    } else {
        reef_platform_host(&want);
    }
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    int rc = reef_json_parse(&d, json, len, NULL, err);
    if (rc < 0)
        return reef_err_wrap(err, "index");
    int ms = reef_json_member(&d, REEF_JSON_ROOT, "manifests");
    if (ms < 0 || reef_json_kind(&d, ms) != REEF_JSON_ARRAY) {
        reef_json_doc_free(&d);
        return reef_err_set(err, -EINVAL, "index: no manifests");
    }
    int best = 0;
    char have_list[256] = "";
    struct reef_json_iter it = reef_json_iter(&d, ms);
    while (reef_json_next(&d, &it)) {
        struct reef__desc desc;
        char what[64];
        snprintf(what, sizeof(what), "index: manifest %d", it.index);
        if ((rc = get_desc(&d, it.val, what, &desc, err)) < 0) {
            reef_json_doc_free(&d);
            return rc;
        }
        int pv = reef_json_member(&d, it.val, "platform");
        struct reef_platform have = {0};
        if (pv < 0)
            continue;
        int os = reef_json_member(&d, pv, "os"), arch = reef_json_member(&d, pv, "architecture"),
            var = reef_json_member(&d, pv, "variant");
        if (os < 0 || arch < 0 || reef_json_get_str(&d, os, have.os, sizeof(have.os), NULL) < 0 ||
            reef_json_get_str(&d, arch, have.arch, sizeof(have.arch), NULL) < 0)
            continue;
        if (var >= 0)
            reef_json_get_str(&d, var, have.variant, sizeof(have.variant), NULL);
        char pf[64];
        struct reef_platform norm;
        char spec[100];
        snprintf(spec, sizeof(spec), "%s/%s%s%s", have.os, have.arch, have.variant[0] ? "/" : "",
                 have.variant);
        if (strcmp(have.os, "linux") == 0 && reef_platform_parse(spec, &norm, NULL) == 0)
            have = norm;
        reef_platform_format(&have, pf, sizeof(pf));
        size_t hl = strlen(have_list);
        if (strcmp(pf, "unknown/unknown") != 0 && hl + strlen(pf) + 3 < sizeof(have_list))
            snprintf(have_list + hl, sizeof(have_list) - hl, "%s%s", hl ? ", " : "", pf);
        int score = reef_platform_score(&want, &have);
        if (score > best && reef_registry_manifest_kind(desc.media_type) == 1) {
            best = score;
            reef_strlcpy(digest, desc.digest, REEF_DIGEST_MAX);
            reef_strlcpy(media_type, desc.media_type, 128);
        }
    }
    reef_json_doc_free(&d);
    if (best == 0) {
        char w[64];
        reef_platform_format(&want, w, sizeof(w));
        return reef_err_set(err, -ENOENT, "no image for platform %s in the index (it has %s)", w,
                            have_list[0] ? have_list : "none");
    }
    return 0;
}

/* RFC 3339 "2023-11-14T22:13:20Z" (fraction and offset allowed) to unix time; 0 when unreadable. */
static int64_t parse_time(const char *s)
{
    struct tm tm = {0};
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return 0;
    int64_t t = (int64_t)timegm(&tm);
    if (*p == '.')
        while (*++p >= '0' && *p <= '9')
            ;
    if ((*p == '+' || *p == '-') && strlen(p) >= 6) {
        int off =
            ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 + ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
        t += *p == '+' ? -off : off;
    }
    return t;
}

int reef__config_parse(const char *json, size_t len, size_t nlayers, char (*diff_ids)[80],
                       char *platform, size_t psz, int64_t *created, struct reef_err *err)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    int rc = reef_json_parse(&d, json, len, NULL, err);
    if (rc < 0)
        return reef_err_wrap(err, "config");
    int ids = reef_json_find(&d, REEF_JSON_ROOT, "rootfs.diff_ids", NULL);
    if (ids < 0 || reef_json_kind(&d, ids) != REEF_JSON_ARRAY) {
        rc = reef_err_set(err, -EINVAL, "config: no rootfs.diff_ids");
        goto out;
    }
    if ((size_t)reef_json_count(&d, ids) != nlayers) {
        rc = reef_err_set(err, -EINVAL, "config lists %d diff_ids for %zu layers",
                          reef_json_count(&d, ids), nlayers);
        goto out;
    }
    struct reef_json_iter it = reef_json_iter(&d, ids);
    while (reef_json_next(&d, &it)) {
        if (reef_json_get_str(&d, it.val, diff_ids[it.index], 80, NULL) < 0 ||
            !reef_digest_valid(diff_ids[it.index])) {
            rc =
                reef_err_set(err, -EINVAL, "config: diff_ids[%d] is not a sha256 digest", it.index);
            goto out;
        }
    }
    struct reef_platform p = {0};
    int os = reef_json_member(&d, REEF_JSON_ROOT, "os");
    int ar = reef_json_member(&d, REEF_JSON_ROOT, "architecture");
    int va = reef_json_member(&d, REEF_JSON_ROOT, "variant");
    if (os >= 0)
        reef_json_get_str(&d, os, p.os, sizeof(p.os), NULL);
    if (ar >= 0)
        reef_json_get_str(&d, ar, p.arch, sizeof(p.arch), NULL);
    if (va >= 0)
        reef_json_get_str(&d, va, p.variant, sizeof(p.variant), NULL);
    if (!p.os[0])
        reef_strlcpy(p.os, "linux", sizeof(p.os));
    if (!p.arch[0])
        reef_strlcpy(p.arch, "unknown", sizeof(p.arch));
    reef_platform_format(&p, platform, (unsigned)psz);
    *created = 0;
    int cr = reef_json_member(&d, REEF_JSON_ROOT, "created");
    char ts[64];
    if (cr >= 0 && reef_json_get_str(&d, cr, ts, sizeof(ts), NULL) == 0)
        *created = parse_time(ts);
out:
    reef_json_doc_free(&d);
    return rc;
}
