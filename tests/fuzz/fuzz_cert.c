/* Fuzz target: certificate and key parsing, inspection, host checks and PEM round trips. */
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include "core/cert.h"
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reef_err err;
    struct reef_cert *c = NULL;
    int r;
    if (size > 0 && data[0] == '-')
        r = reef_cert_from_pem(&c, (const char *)data, size, &err);
    else
        r = reef_cert_from_der(&c, data, size, &err);
    if (r == 0) {
        struct reef_cert_info info;
        if (reef_cert_inspect(c, &info, &err) == 0) {
            for (size_t i = 0; i < info.n_dns; i++)
                reef_cert_check_host(c, info.dns[i], &err);
            for (size_t i = 0; i < info.n_ips; i++)
                if (reef_cert_check_host(c, info.ips[i], &err) != 0)
                    abort();
            reef_cert_info_free(&info);
        }
        reef_cert_check_host(c, "a.example.com", &err);
        reef_cert_check_host(c, "10.0.0.1", &err);
        reef_cert_verify(c, c, REEF_CERT_SERVER, &err);
        char *pem;
        size_t len;
        if (reef_cert_to_pem(c, &pem, &len, &err) == 0) {
            struct reef_cert *c2;
            if (reef_cert_from_pem(&c2, pem, len, &err) != 0)
                abort();
            char a[65], b[65];
            reef_cert_fingerprint(c, a);
            reef_cert_fingerprint(c2, b);
            if (strcmp(a, b))
                abort();
            reef_cert_free(c2);
            free(pem);
        }
        reef_cert_free(c);
    }
    struct reef_key *k;
    if (reef_cert_key_from_pem(&k, (const char *)data, size, &err) == 0)
        reef_cert_key_free(k);
    return 0;
}
