/*
 * `popid serve`: runs the HTTP server (src/http/) on a registry until SIGINT or SIGTERM, then
 * stops gracefully: no new connections, requests in progress answered, store connections
 * closed, exit 0. Prints one JSON line on stdout once it listens, with the port (useful with
 * --listen HOST:0, which picks a free one). See docs/API.md.
 */
#include "cli/cli.h"
#include "cli/cli_int.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit/audit.h"
#include "http/server.h"
#include "hub/outbox.h"

#define GRACE_MS 10000 /* how long a stop waits for requests in progress */

static int usage(const char *msg, const char *arg)
{
        fprintf(stderr, "popid: ");
        fprintf(stderr, msg, arg);
        fprintf(stderr,
                "\nusage: popid serve --db PATH [--listen HOST:PORT] [--threads N] "
                "[--max-body BYTES] [--timeout SECONDS] [--max-conns N] [--key FILE] [--log]\n"
                "       [--notify-url URL --notify-secret FILE [--notify-insecure]]\n"
                "       [--notify-attempts N] [--notify-backoff-ms MS] [--notify-timeout-ms MS]\n");
        return CLI_EUSAGE;
}

static int parse_num(const char *name, const char *v, unsigned long lo, unsigned long hi,
                     unsigned long *out)
{
        char *end;
        errno = 0;
        unsigned long n = strtoul(v, &end, 10);
        if (errno || end == v || *end || v[0] == '-' || n < lo || n > hi) {
                fprintf(stderr, "popid: --%s needs a whole number from %lu to %lu\n", name, lo, hi);
                return CLI_EUSAGE;
        }
        *out = n;
        return 0;
}

/* HOST:PORT, [IPv6]:PORT; host and port are written into buf. */
static int parse_listen(const char *s, char *buf, size_t cap, const char **host, const char **port)
{
        size_t n = strlen(s);
        if (n == 0 || n >= cap)
                return usage("bad --listen '%s'", s);
        memcpy(buf, s, n + 1);
        char *colon = strrchr(buf, ':');
        if (!colon || colon == buf || !colon[1])
                return usage("--listen needs HOST:PORT, not '%s'", s);
        *colon = '\0';
        *port = colon + 1;
        *host = buf;
        if (buf[0] == '[') {
                size_t hl = strlen(buf);
                if (hl < 3 || buf[hl - 1] != ']')
                        return usage("bad --listen '%s'", s);
                buf[hl - 1] = '\0';
                *host = buf + 1;
        }
        unsigned long p;
        if (parse_num("listen port", *port, 0, 65535, &p))
                return CLI_EUSAGE;
        return 0;
}

int cli__serve(int argc, char **argv)
{
        struct http_config cfg = {0};
        /* The OTP outbox's delivery (docs/AUTH.md "OTP delivery"). */
        struct hub_outbox_cfg ocfg = {0};
        const char *secret_path = NULL;
        const char *listen = "127.0.0.1:8080";
        bool notify_insecure = false;
        unsigned long v;
        int rc;
        cfg.db = getenv("POPID_DB");
        for (int i = 0; i < argc; i++) {
                const char *a = argv[i];
                if (!strcmp(a, "--log")) {
                        cfg.log = true;
                        continue;
                }
                if (!strcmp(a, "--notify-insecure")) {
                        notify_insecure = true;
                        continue;
                }
                if (strncmp(a, "--", 2) != 0)
                        return usage("unexpected argument '%s'", a);
                if (i + 1 >= argc)
                        return usage("option %s needs a value", a);
                const char *val = argv[++i];
                if (!strcmp(a, "--db")) {
                        cfg.db = val;
                } else if (!strcmp(a, "--listen")) {
                        listen = val;
                } else if (!strcmp(a, "--threads")) {
                        if ((rc = parse_num("threads", val, 1, 256, &v)))
                                return rc;
                        cfg.threads = (unsigned)v;
                } else if (!strcmp(a, "--max-body")) {
                        if ((rc = parse_num("max-body", val, 1, HTTP_MAX_BODY_LIMIT, &v)))
                                return rc;
                        cfg.max_body = v;
                } else if (!strcmp(a, "--timeout")) {
                        if ((rc = parse_num("timeout", val, 1, 3600, &v)))
                                return rc;
                        cfg.timeout_s = (unsigned)v;
                } else if (!strcmp(a, "--key")) {
                        cfg.key_path = val;
                } else if (!strcmp(a, "--notify-url")) {
                        ocfg.url = val;
                } else if (!strcmp(a, "--notify-secret")) {
                        secret_path = val;
                } else if (!strcmp(a, "--notify-attempts")) {
                        if ((rc = parse_num("notify-attempts", val, 1, 100, &v)))
                                return rc;
                        ocfg.max_attempts = (int)v;
                } else if (!strcmp(a, "--notify-backoff-ms")) {
                        if ((rc = parse_num("notify-backoff-ms", val, 1, 3600000, &v)))
                                return rc;
                        ocfg.base_ms = (int64_t)v;
                } else if (!strcmp(a, "--notify-timeout-ms")) {
                        if ((rc = parse_num("notify-timeout-ms", val, 100, 600000, &v)))
                                return rc;
                        ocfg.timeout_ms = (long)v;
                } else if (!strcmp(a, "--max-conns")) {
                        if ((rc = parse_num("max-conns", val, 1, 65536, &v)))
                                return rc;
                        cfg.max_conns = (unsigned)v;
                } else {
                        return usage("unknown option %s for serve", a);
                }
        }
        if (!cfg.db || !*cfg.db)
                return usage("serve needs --db PATH (or POPID_DB)%s", "");
        /* The messages carry one-time codes: https://, or http:// only to this machine unless
         * the operator says otherwise (hub_notify_url_check, docs/AUTH.md "OTP delivery"). */
        struct pop_err ue = {0};
        if (ocfg.url && hub_notify_url_check(ocfg.url, notify_insecure, &ue)) {
                char why[sizeof ue.msg + 64];
                snprintf(why, sizeof why, "%s [%s]", ue.msg, ue.rule);
                return usage("--notify-url: %s", why);
        }
        if (notify_insecure && !ocfg.url)
                return usage("--notify-insecure goes with --notify-url%s", "");
        if (ocfg.url && !secret_path)
                return usage("--notify-url needs --notify-secret FILE (the webhook's HMAC "
                             "key)%s",
                             "");
        char lb[300];
        if ((rc = parse_listen(listen, lb, sizeof lb, &cfg.host, &cfg.port)))
                return rc;

        /* Block the stop signals before any thread starts, so every worker inherits the mask and
         * only sigwait below sees them. */
        sigset_t stop;
        sigemptyset(&stop);
        sigaddset(&stop, SIGINT);
        sigaddset(&stop, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &stop, NULL);
        signal(SIGPIPE, SIG_IGN);

        if (!cfg.key_path) {
                const char *k = getenv("POPID_KEY");
                cfg.key_path = k && *k ? k : NULL;
        }

        /* One audit writer per server: every data endpoint's entries go through its queue and
         * group commit; it is closed (with its final checkpoint) after the last request. */
        struct http_server *srv = NULL;
        struct audit *audit = NULL;
        struct hub_outbox *outbox = NULL;
        struct pop_err e = {0};
        char akey[4096], okey_path[4096];
        uint8_t okey[HUB_OUTBOX_KEY_BYTES], secret[HUB_SECRET_MAX];
        size_t secret_len = 0;
        int prc = audit_key_path(cfg.db, akey, sizeof akey, &e);
        if (!prc)
                prc = audit_open(cfg.db, akey, NULL, &audit, &e);
        /* The outbox key is made on first start; undelivered messages of an earlier run are
         * picked up by the delivery thread (they are in the store, sealed under this key). */
        if (!prc && !(prc = hub_outbox_key_path(cfg.db, okey_path, sizeof okey_path, &e)))
                prc = hub_outbox_key_load(okey_path, true, okey, &e);
        if (!prc && secret_path)
                prc = hub_secret_load(secret_path, secret, &secret_len, &e);
        if (!prc) {
                ocfg.db = cfg.db;
                ocfg.secret = secret;
                ocfg.secret_len = secret_len;
                ocfg.key = okey;
                ocfg.audit = audit;
                if (!ocfg.url)
                        fprintf(stderr, "popid: serve: no --notify-url: OTP messages stay in the "
                                        "outbox until a server runs with one\n");
                prc = hub_outbox_start(&ocfg, &outbox, &e);
        }
        sodium_memzero(secret, sizeof secret);
        if (!prc) {
                cfg.audit = audit;
                cfg.outbox_key = okey;
                cfg.outbox = outbox;
                prc = http_server_start(&cfg, &srv, &e);
        }
        if (prc) {
                fprintf(stderr, "popid: %s [%s]\n", e.msg, e.rule);
                struct pop_err ce = {0};
                hub_outbox_stop(outbox);
                sodium_memzero(okey, sizeof okey);
                (void)audit_close(audit, &ce);
                return prc == POP_EINVAL ? CLI_EUSAGE : CLI_EFAIL;
        }
        int port = http_server_port(srv);
        int v6 = strchr(cfg.host, ':') != NULL;
        printf("{\"listen\":\"%s%s%s:%d\",\"port\":%d,\"threads\":%u}\n", v6 ? "[" : "", cfg.host,
               v6 ? "]" : "", port, port, http_server_threads(srv));
        fflush(stdout);

        int sig = 0;
        while (sigwait(&stop, &sig) != 0)
                ;
        fprintf(stderr, "popid: serve: %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
        http_server_stop(srv, GRACE_MS);
        hub_outbox_stop(outbox); /* an attempt in flight finishes and is recorded first */
        sodium_memzero(okey, sizeof okey);
        if (audit_close(audit, &e)) {
                fprintf(stderr, "popid: serve: the audit log's final checkpoint failed: %s [%s]\n",
                        e.msg, e.rule);
                return CLI_EFAIL;
        }
        return CLI_OK;
}
