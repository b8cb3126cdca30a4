/* kube_ws: WebSocket connections to the API server for `reef exec` on pods, through
 * core/ws_client with the kubeconfig's server, trust and credentials. */
#include <errno.h>
#include <string.h>

#include "cmd/kube_pod.h"
#include "core/buf.h"

int reef__kube_ws_open(struct reef_kube *k, const char *path, const char *const *protocols,
                       struct reef_ws_client **out, struct reef_http_result *refused,
                       struct reef_err *err)
{
    struct reef_buf url = REEF_BUF_INIT;
    reef_buf_puts(&url, k->cfg.server);
    /* the server URL may end in '/' */
    if (url.len && url.data[url.len - 1] == '/')
        url.data[--url.len] = 0;
    reef_buf_puts(&url, path);
    struct reef_ws_client_opts o = {.ca_pem = k->cfg.ca_pem,
                                    .cert_pem = k->cfg.cert_pem,
                                    .key_pem = k->cfg.key_pem,
                                    .insecure_skip_verify = k->cfg.insecure_skip_tls_verify,
                                    .tls_server_name = k->cfg.tls_server_name,
                                    .bearer_token = k->cfg.token,
                                    .protocols = protocols};
    int r = reef_ws_client_open(&o, url.data, out, refused, err);
    reef_buf_free(&url);
    if (r == -ECONNREFUSED) {
        /* kubectl's wording: host and port of the server URL */
        const char *hp = strstr(k->cfg.server, "://");
        hp = hp ? hp + 3 : k->cfg.server;
        reef_err_set(err, r,
                     "The connection to the server %.*s was refused - did you specify the right "
                     "host or port?",
                     (int)strcspn(hp, "/"), hp);
    }
    return r;
}
