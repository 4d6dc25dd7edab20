/*
 * The durable outbox's delivery thread, sealing and signing (see outbox.h). One thread, one
 * store connection of its own, one message at a time: the volume is a few OTPs a second at most,
 * and a sequential worker keeps the order and the retry bookkeeping simple. Each attempt is
 * audited (the citizen sees it in their access log) before the row is updated.
 */
#include "hub/outbox.h"

#include "access/access.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"

#define DUE_BATCH 16 /* messages read per pass */

struct due {
        struct store_outbox m;
        uint8_t body[STORE_OUTBOX_BODY_MAX];
};

struct hub_outbox {
        struct hub_outbox_cfg cfg;
        uint8_t key[HUB_OUTBOX_KEY_BYTES];
        uint8_t secret[HUB_SECRET_MAX];
        char url[2048];
        /* An http:// URL to a loopback host: sent straight there, never through a proxy the
         * environment names (http_proxy), which would carry the codes off the machine in clear
         * (hub_notify_url_check). */
        bool direct;
        struct store *st;
        CURL *curl;
        pthread_t thread;
        bool has_thread;
        pthread_mutex_t mu;
        pthread_cond_t cv;
        bool stop, kicked;
        atomic_llong pending, delivered, dead, attempts, failures;
        struct due due[DUE_BATCH];
        int n_due;
};

static int64_t wall_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- keys, sealing, signing ---- */

int hub_outbox_key_path(const char *uri, char *buf, size_t cap, struct pop_err *err)
{
        return access_keyfile_path(uri, ".outbox.key", "outbox-key", "outbox key", buf, cap, err);
}

/* The same file format and protection as the token pepper (src/access key files); a secretbox
 * key is 32 random bytes like it. */
int hub_outbox_key_load(const char *path, bool create, uint8_t out[HUB_OUTBOX_KEY_BYTES],
                        struct pop_err *err)
{
        _Static_assert(HUB_OUTBOX_KEY_BYTES == ACCESS_KEYFILE_LEN &&
                           HUB_OUTBOX_KEY_BYTES == crypto_secretbox_KEYBYTES,
                       "the outbox key is a key file");
        return access_keyfile_load(path, create, "outbox-key", "outbox key", out, err);
}

int hub_outbox_seal(const uint8_t key[HUB_OUTBOX_KEY_BYTES], const char *msg, size_t len,
                    uint8_t *out, size_t cap, size_t *out_len, struct pop_err *err)
{
        if (len > HUB_OUTBOX_MSG_MAX || cap < len + HUB_OUTBOX_SEAL_OVERHEAD)
                return pop_fail(err, POP_ETOOBIG, "outbox-too-big",
                                "an outbox message is over %d bytes", HUB_OUTBOX_MSG_MAX);
        randombytes_buf(out, crypto_secretbox_NONCEBYTES);
        crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES, (const uint8_t *)msg, len, out,
                              key);
        *out_len = len + HUB_OUTBOX_SEAL_OVERHEAD;
        return 0;
}

int hub_outbox_open(const uint8_t key[HUB_OUTBOX_KEY_BYTES], const uint8_t *blob, size_t len,
                    char *out, size_t cap, size_t *out_len, struct pop_err *err)
{
        if (len < HUB_OUTBOX_SEAL_OVERHEAD || len - HUB_OUTBOX_SEAL_OVERHEAD >= cap)
                return pop_fail(err, POP_EVERIFY, "outbox-sealed",
                                "an outbox body has an impossible length (%zu bytes)", len);
        size_t n = len - HUB_OUTBOX_SEAL_OVERHEAD;
        if (crypto_secretbox_open_easy((uint8_t *)out, blob + crypto_secretbox_NONCEBYTES,
                                       len - crypto_secretbox_NONCEBYTES, blob, key) != 0)
                return pop_fail(err, POP_EVERIFY, "outbox-sealed",
                                "an outbox body does not open under the outbox key");
        out[n] = '\0';
        *out_len = n;
        return 0;
}

int64_t hub_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, uint32_t rnd)
{
        if (attempt < 1)
                attempt = 1;
        int64_t d = base_ms;
        for (int i = 1; i < attempt && d < cap_ms; i++)
                d *= 2;
        if (d > cap_ms)
                d = cap_ms;
        int64_t half = d / 2;
        return d - half + (int64_t)(rnd % (uint64_t)(half + 1));
}

void hub_sign(const uint8_t *secret, size_t secret_len, int64_t ts, const char *body, size_t len,
              char out[3 + HUB_SIG_HEX])
{
        crypto_auth_hmacsha256_state h;
        uint8_t mac[crypto_auth_hmacsha256_BYTES];
        char pre[32];
        int n = snprintf(pre, sizeof pre, "%" PRId64 ".", ts);
        crypto_auth_hmacsha256_init(&h, secret, secret_len);
        crypto_auth_hmacsha256_update(&h, (const uint8_t *)pre, (size_t)n);
        crypto_auth_hmacsha256_update(&h, (const uint8_t *)body, len);
        crypto_auth_hmacsha256_final(&h, mac);
        memcpy(out, "v1=", 3);
        sodium_bin2hex(out + 3, HUB_SIG_HEX, mac, sizeof mac);
        sodium_memzero(&h, sizeof h);
}

/* A host of the loopback interface: 127.0.0.0/8 (RFC 1122 section 3.2.1.3), ::1 (RFC 4291
 * section 2.5.3) or the name localhost (RFC 6761 section 6.3). curl gives an IPv6 host in
 * brackets. */
static bool loopback_host(const char *h)
{
        struct in_addr a4;
        struct in6_addr a6;
        char v6[INET6_ADDRSTRLEN + 2];
        size_t n = strlen(h);
        if (!strcasecmp(h, "localhost") || !strcasecmp(h, "localhost."))
                return true;
        if (inet_pton(AF_INET, h, &a4) == 1)
                return (ntohl(a4.s_addr) >> 24) == 127;
        if (n > 2 && n < sizeof v6 && h[0] == '[' && h[n - 1] == ']') {
                memcpy(v6, h + 1, n - 2);
                v6[n - 2] = '\0';
                return inet_pton(AF_INET6, v6, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
        }
        return false;
}

int hub_notify_url_check(const char *url, bool insecure, struct pop_err *err)
{
        int rc = 0;
        char *scheme = NULL, *host = NULL;
        CURLU *u = curl_url();
        if (!u)
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory parsing the webhook URL");
        if (!url || strlen(url) >= 2048 || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
                rc = pop_fail(err, POP_EINVAL, "notify-url",
                              "the webhook URL is not a well-formed absolute URL with a host");
                goto out;
        }
        if (!strcasecmp(scheme, "https"))
                goto out;
        if (strcasecmp(scheme, "http")) {
                rc = pop_fail(err, POP_EINVAL, "notify-url",
                              "the webhook URL must be https:// (or http:// to this machine)");
                goto out;
        }
        if (!insecure && !loopback_host(host))
                rc = pop_fail(err, POP_EINVAL, "notify-url-insecure",
                              "the webhook URL sends one-time codes in clear to '%.100s': use "
                              "https://, an http:// relay on this machine (127.0.0.1, ::1, "
                              "localhost), or --notify-insecure on a network you trust",
                              host);
out:
        curl_free(scheme);
        curl_free(host);
        curl_url_cleanup(u);
        return rc;
}

int hub_secret_load(const char *path, uint8_t out[HUB_SECRET_MAX], size_t *len, struct pop_err *err)
{
        *len = 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return pop_fail(err, POP_EIO, "notify-secret", "cannot open the secret file %s: %s",
                                path, strerror(errno));
        struct stat sb;
        uint8_t buf[HUB_SECRET_MAX + 2];
        ssize_t n = -1;
        int rc = 0;
        if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
                rc = pop_fail(err, POP_EIO, "notify-secret", "%s is not a regular file", path);
        else if (sb.st_mode & 077)
                rc = pop_fail(err, POP_EIO, "notify-secret-mode",
                              "the secret file %s is readable by others (mode %03o): chmod 600 %s",
                              path, (unsigned)(sb.st_mode & 0777), path);
        else
                n = read(fd, buf, sizeof buf);
        close(fd);
        if (rc)
                return rc;
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
                n--;
        if (n <= 0 || n > HUB_SECRET_MAX)
                rc = pop_fail(err, POP_EINVAL, "notify-secret",
                              "the secret file %s must hold 1 to %d bytes", path, HUB_SECRET_MAX);
        else {
                memcpy(out, buf, (size_t)n);
                *len = (size_t)n;
        }
        sodium_memzero(buf, sizeof buf);
        return rc;
}

/* ---- delivery ---- */

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
        (void)p;
        (void)ctx;
        return size * n; /* the answer's body is not used: the status decides */
}

/* POSTs one message. 0 when the webhook answered 2xx; otherwise POP_EIO with why in err. */
static int post(struct hub_outbox *ob, int64_t id, const char *body, size_t len,
                struct pop_err *err)
{
        CURL *c = ob->curl;
        curl_easy_reset(c);
        char h_id[64], h_ts[64], h_sig[3 + HUB_SIG_HEX + 32];
        int64_t ts = wall_ms() / 1000;
        char sig[3 + HUB_SIG_HEX];
        hub_sign(ob->secret, ob->cfg.secret_len, ts, body, len, sig);
        snprintf(h_id, sizeof h_id, "X-Popid-Message-Id: %" PRId64, id);
        snprintf(h_ts, sizeof h_ts, "X-Popid-Timestamp: %" PRId64, ts);
        snprintf(h_sig, sizeof h_sig, "X-Popid-Signature: %s", sig);
        struct curl_slist *hs = NULL, *t;
        const char *const lines[] = {"Content-Type: application/json", h_id, h_ts, h_sig,
                                     "Expect:"};
        for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
                if (!(t = curl_slist_append(hs, lines[i]))) {
                        curl_slist_free_all(hs);
                        return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
                }
                hs = t;
        }
        curl_easy_setopt(c, CURLOPT_URL, ob->url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ob->cfg.timeout_ms);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ob->cfg.timeout_ms);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        if (ob->direct)
                curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
#if LIBCURL_VERSION_NUM >= 0x075500
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
        CURLcode cc = curl_easy_perform(c);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(hs);
        if (cc != CURLE_OK)
                return pop_fail(err, POP_EIO, "delivery-failed", "%s", curl_easy_strerror(cc));
        if (status < 200 || status > 299)
                return pop_fail(err, POP_EIO, "delivery-failed", "the webhook answered %ld",
                                status);
        return 0;
}

static int collect(void *ctx, const struct store_outbox *m)
{
        struct hub_outbox *ob = ctx;
        if (ob->n_due >= DUE_BATCH)
                return 1;
        struct due *d = &ob->due[ob->n_due];
        d->m = *m;
        size_t n = m->body_len <= sizeof d->body ? m->body_len : 0;
        if (n)
                memcpy(d->body, m->body, n);
        d->m.body = d->body;
        d->m.body_len = n;
        ob->n_due++;
        return 0;
}

/* Appends the audit entry of an attempt and waits until it is durable: 0, or the failure. */
static int audit_attempt(struct hub_outbox *ob, const struct store_outbox *m, const char *outcome,
                         const char *rule)
{
        if (!ob->cfg.audit)
                return 0;
        char action[AUDIT_ACTION_MAX + 1], reqid[40];
        snprintf(action, sizeof action, "%s.deliver", m->topic);
        snprintf(reqid, sizeof reqid, "outbox-%" PRId64, m->id);
        struct audit_entry e = {.actor = "system:outbox",
                                .subject = m->subject,
                                .action = action,
                                .fields = "contact",
                                .purpose = m->topic,
                                .outcome = outcome,
                                .rule = rule,
                                .request_id = reqid};
        struct pop_err ae = {0};
        int rc = audit_log(ob->cfg.audit, &e, NULL, &ae);
        if (rc)
                fprintf(stderr, "popid outbox: audit of message %" PRId64 " failed: %s [%s]\n",
                        m->id, ae.msg, ae.rule);
        return rc;
}

/*
 * One attempt at one message, and the row's new state in its own transaction. The message holds
 * personal data (the destination, the code), so an entry saying it is handed to the gateway is
 * durable before the POST (DESIGN.md "Access and audit"); a failed attempt adds an "error"
 * entry with its rule. When the first entry cannot be written nothing is sent, and the message
 * stays as it was for the next pass.
 */
static int attempt(struct hub_outbox *ob, struct due *d, int64_t now_ms, struct pop_err *err)
{
        struct store_outbox *m = &d->m;
        char msg[HUB_OUTBOX_MSG_MAX + 1];
        size_t len = 0;
        struct pop_err de = {0};
        int rc = hub_outbox_open(ob->key, m->body, m->body_len, msg, sizeof msg, &len, &de);
        bool permanent = rc != 0; /* a body that does not open never will */
        if (rc == 0 && audit_attempt(ob, m, "ok", "")) {
                sodium_memzero(msg, sizeof msg);
                sodium_memzero(d->body, sizeof d->body);
                return 0;
        }
        if (rc == 0) {
                atomic_fetch_add(&ob->attempts, 1);
                rc = post(ob, m->id, msg, len, &de);
        }
        sodium_memzero(msg, sizeof msg);
        m->attempts++;
        m->updated_ms = now_ms;
        if (rc == 0) {
                m->state = STORE_OUTBOX_DELIVERED;
                m->last_error[0] = '\0';
                atomic_fetch_add(&ob->delivered, 1);
        } else {
                atomic_fetch_add(&ob->failures, 1);
                snprintf(m->last_error, sizeof m->last_error, "%.*s", (int)sizeof m->last_error - 1,
                         de.msg);
                if (permanent || m->attempts >= ob->cfg.max_attempts) {
                        m->state = STORE_OUTBOX_DEAD;
                        atomic_fetch_add(&ob->dead, 1);
                        (void)audit_attempt(ob, m, "error",
                                            permanent ? "outbox-sealed" : "delivery-dead-letter");
                } else {
                        m->next_ms = now_ms + hub_backoff_ms(m->attempts, ob->cfg.base_ms,
                                                             ob->cfg.cap_ms, randombytes_random());
                        (void)audit_attempt(ob, m, "error", "delivery-failed");
                }
        }
        sodium_memzero(d->body, sizeof d->body);
        if ((rc = store_begin(ob->st, err)))
                return rc;
        if ((rc = store_outbox_update(ob->st, m, err)) || (rc = store_commit(ob->st, err)))
                store_rollback(ob->st);
        return rc;
}

static int refresh_counts(struct hub_outbox *ob, struct pop_err *err)
{
        int64_t n[STORE_OUTBOX_N_STATES];
        int rc = store_outbox_count(ob->st, n, err);
        if (rc == 0) {
                atomic_store(&ob->pending, n[STORE_OUTBOX_PENDING]);
                atomic_store(&ob->delivered, n[STORE_OUTBOX_DELIVERED]);
                atomic_store(&ob->dead, n[STORE_OUTBOX_DEAD]);
        }
        return rc;
}

int hub_outbox_run_once(struct hub_outbox *ob, int64_t now_ms, int *n_tried, struct pop_err *err)
{
        if (n_tried)
                *n_tried = 0;
        int rc = 0;
        if (ob->curl) {
                ob->n_due = 0;
                rc = store_outbox_due(ob->st, now_ms, DUE_BATCH, collect, ob, err);
                if (rc == 1)
                        rc = 0;
                for (int i = 0; i < ob->n_due && rc == 0; i++) {
                        rc = attempt(ob, &ob->due[i], now_ms, err);
                        if (n_tried)
                                (*n_tried)++;
                }
                ob->n_due = 0;
        }
        if (rc == 0)
                rc = refresh_counts(ob, err);
        return rc;
}

static void *worker_main(void *arg)
{
        struct hub_outbox *ob = arg;
        pthread_mutex_lock(&ob->mu);
        while (!ob->stop) {
                pthread_mutex_unlock(&ob->mu);
                int n = 0;
                struct pop_err e = {0};
                if (hub_outbox_run_once(ob, wall_ms(), &n, &e))
                        fprintf(stderr, "popid outbox: %s [%s]\n", e.msg, e.rule);
                pthread_mutex_lock(&ob->mu);
                if (n == DUE_BATCH || ob->kicked || ob->stop) {
                        ob->kicked = false;
                        continue; /* more may be due at once */
                }
                struct timespec until;
                clock_gettime(CLOCK_MONOTONIC, &until);
                until.tv_sec += ob->cfg.poll_ms / 1000;
                until.tv_nsec += (long)(ob->cfg.poll_ms % 1000) * 1000000L;
                if (until.tv_nsec >= 1000000000L) {
                        until.tv_sec++;
                        until.tv_nsec -= 1000000000L;
                }
                while (!ob->stop && !ob->kicked &&
                       pthread_cond_timedwait(&ob->cv, &ob->mu, &until) == 0)
                        ;
                ob->kicked = false;
        }
        pthread_mutex_unlock(&ob->mu);
        return NULL;
}

static void outbox_free(struct hub_outbox *ob)
{
        if (ob->curl)
                curl_easy_cleanup(ob->curl);
        store_close(ob->st);
        pthread_mutex_destroy(&ob->mu);
        pthread_cond_destroy(&ob->cv);
        sodium_memzero(ob, sizeof *ob);
        free(ob);
}

static void curl_init_once(void)
{
        /* Not thread-safe in older libcurl: once, before any delivery thread runs. */
        (void)curl_global_init(CURL_GLOBAL_DEFAULT);
}

int hub_outbox_start(const struct hub_outbox_cfg *cfg, struct hub_outbox **out, struct pop_err *err)
{
        *out = NULL;
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        pthread_once(&once, curl_init_once);
        if (cfg->secret_len > HUB_SECRET_MAX || (cfg->url && strlen(cfg->url) >= 2048))
                return pop_fail(err, POP_EINVAL, "notify-config",
                                "the notification URL or secret is too long");
        struct hub_outbox *ob = calloc(1, sizeof *ob);
        if (!ob)
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        ob->cfg = *cfg;
        pthread_mutex_init(&ob->mu, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&ob->cv, &ca);
        pthread_condattr_destroy(&ca);
        memcpy(ob->key, cfg->key, HUB_OUTBOX_KEY_BYTES);
        if (cfg->secret_len)
                memcpy(ob->secret, cfg->secret, cfg->secret_len);
        ob->cfg.key = ob->key;
        ob->cfg.secret = ob->secret;
        if (cfg->url) {
                snprintf(ob->url, sizeof ob->url, "%s", cfg->url);
                struct pop_err ue = {0};
                ob->direct = strncasecmp(cfg->url, "https:", 6) != 0 &&
                             hub_notify_url_check(cfg->url, false, &ue) == 0;
        }
        if (ob->cfg.max_attempts <= 0)
                ob->cfg.max_attempts = HUB_MAX_ATTEMPTS_DEFAULT;
        if (ob->cfg.base_ms <= 0)
                ob->cfg.base_ms = HUB_BACKOFF_BASE_MS;
        if (ob->cfg.cap_ms <= 0)
                ob->cfg.cap_ms = HUB_BACKOFF_CAP_MS;
        if (ob->cfg.cap_ms < ob->cfg.base_ms)
                ob->cfg.cap_ms = ob->cfg.base_ms;
        if (ob->cfg.timeout_ms <= 0)
                ob->cfg.timeout_ms = HUB_TIMEOUT_MS_DEFAULT;
        if (ob->cfg.poll_ms <= 0)
                ob->cfg.poll_ms = HUB_POLL_MS_DEFAULT;
        int rc = store_open(cfg->db, 0, &ob->st, err);
        if (rc)
                goto fail;
        if (cfg->url && !(ob->curl = curl_easy_init())) {
                rc = pop_fail(err, POP_ENOMEM, "nomem", "libcurl cannot start");
                goto fail;
        }
        if ((rc = refresh_counts(ob, err)))
                goto fail;
        if (!cfg->no_thread) {
                if (pthread_create(&ob->thread, NULL, worker_main, ob) != 0) {
                        rc = pop_fail(err, POP_ENOMEM, "outbox-thread",
                                      "cannot start the outbox delivery thread");
                        goto fail;
                }
                ob->has_thread = true;
        }
        *out = ob;
        return 0;
fail:
        outbox_free(ob);
        return rc;
}

void hub_outbox_kick(struct hub_outbox *ob)
{
        if (!ob)
                return;
        pthread_mutex_lock(&ob->mu);
        ob->kicked = true;
        pthread_cond_signal(&ob->cv);
        pthread_mutex_unlock(&ob->mu);
}

void hub_outbox_get_stats(struct hub_outbox *ob, struct hub_outbox_stats *out)
{
        memset(out, 0, sizeof *out);
        if (!ob)
                return;
        out->pending = atomic_load(&ob->pending);
        out->delivered = atomic_load(&ob->delivered);
        out->dead = atomic_load(&ob->dead);
        out->attempts = atomic_load(&ob->attempts);
        out->failures = atomic_load(&ob->failures);
}

void hub_outbox_stop(struct hub_outbox *ob)
{
        if (!ob)
                return;
        if (ob->has_thread) {
                pthread_mutex_lock(&ob->mu);
                ob->stop = true;
                pthread_cond_signal(&ob->cv);
                pthread_mutex_unlock(&ob->mu);
                pthread_join(ob->thread, NULL);
        }
        outbox_free(ob);
}
