/*
 * Fuzz target for the webhook URL rule (hub_notify_url_check, src/hub/outbox.c): any bytes, as a
 * C string, with and without insecure. Each answer is 0 or POP_EINVAL with a rule and a message;
 * what is allowed without insecure is allowed with it; and with insecure the only refusals are
 * of malformed URLs (rule notify-url), never notify-url-insecure. Inputs over the 2,048-byte cap
 * are refused, not read past.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub/outbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 4096)
                return 0;
        char *url = malloc(size + 1);
        if (!url)
                return 0;
        memcpy(url, data, size);
        url[size] = '\0';
        struct pop_err strict, loose;
        pop_err_clear(&strict);
        pop_err_clear(&loose);
        int rs = hub_notify_url_check(url, false, &strict);
        int rl = hub_notify_url_check(url, true, &loose);
        if ((rs != 0 && rs != POP_EINVAL) || (rl != 0 && rl != POP_EINVAL))
                abort();
        if (rs && (!strict.rule[0] || !strict.msg[0]))
                abort();
        if (rl && (strcmp(loose.rule, "notify-url") != 0 || !loose.msg[0]))
                abort();
        if (rs == 0 && rl != 0)
                abort();
        free(url);
        return 0;
}
