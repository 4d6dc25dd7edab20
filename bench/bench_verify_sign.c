/*
 * The CPU cost of one verification answer's parts, without the server (issue 5's verify target,
 * docs/BENCHMARKS.md "Verification"): the ES256 JWS of the answer as auth.c makes it
 * (verify_sign: cjose over OpenSSL), next to its ceiling, a bare Ed25519 signature of the same
 * bytes with libsodium (the other signature the registry holds a library for), the name match
 * with a claim byte for byte the stored name (the fast path) and with an NFD claim (normalized),
 * and the answer's JSON. Each is timed over N rounds, R times; medians of ns per operation, in
 * the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), not wall time: on a machine shared with other
 * work, wall time counts the time slices others get.
 *
 *   bench_verify_sign [--n 20000] [--reps 5]
 *
 * The signing key is made fresh in a temporary file (cjose_jwk_create_EC_random) and removed.
 */
#define BENCH_NAME "bench_verify_sign"
#include "bench_util.h"

#include <cjose/cjose.h>
#include <jansson.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "core/match.h"
#include "core/name.h"
#include "eid/verify.h"

#define REPS_MAX 32

static json_t *answer_doc(int i)
{
        char txn[32];
        snprintf(txn, sizeof txn, "vt-%024d", i);
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:[ss], s:s, s:I, s:s}", "typ",
                         "popid-verification", "txn", txn, "client", "bank-abc", "pid",
                         "001090123456", "match", "exact", "attributes", "name", "dob", "result",
                         "yes", "iat", (json_int_t)1795000000, "code", "ok");
}

static double cpu_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double median(double *v, int n)
{
        qsort(v, (size_t)n, sizeof *v, cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
        int64_t n = 20000;
        int reps = 5;
        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--n") && i + 1 < argc)
                        n = parse_count("--n", argv[++i]);
                else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
                        reps = (int)parse_count("--reps", argv[++i]);
                else
                        die("usage: bench_verify_sign [--n N] [--reps R]");
        }
        if (reps > REPS_MAX)
                reps = REPS_MAX;
        if (sodium_init() < 0)
                die("libsodium does not start");

        /* A fresh ES256 key in a temporary file, as registry keys are stored (a private JWK). */
        cjose_err ce;
        cjose_jwk_t *jwk = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &ce);
        char *priv = jwk ? cjose_jwk_to_json(jwk, true, &ce) : NULL;
        if (!priv)
                die("cannot make a key: %s", ce.message ? ce.message : "?");
        char path[] = "/tmp/bench-verify-sign-XXXXXX";
        int fd = mkstemp(path);
        if (fd < 0 || write(fd, priv, strlen(priv)) != (ssize_t)strlen(priv))
                die("cannot write the key file");
        close(fd);
        sodium_memzero(priv, strlen(priv));
        free(priv);
        cjose_jwk_release(jwk);
        struct verify_signer *signer = NULL;
        struct pop_err e = {0};
        if (verify_signer_open(path, &signer, &e))
                die("signer: %s", e.msg);
        unlink(path);

        unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
        unsigned char sig[crypto_sign_BYTES];
        crypto_sign_keypair(pk, sk);

        /* Stored forms of a name, and two claims of it: as stored (NFC) and decomposed (NFD). */
        const char *nfc = "Nguyễn Thị Ánh Tuyết";
        const char *nfd = "Nguye\xcc\x82\xcc\x83n Thi\xcc\xa3 A\xcc\x81nh Tuye\xcc\x82\xcc\x81t";
        char fold[2 * NAME_MAX_BYTES + 1], key[2 * NAME_MAX_BYTES + 1];
        if (name_fold(nfc, strlen(nfc), fold, sizeof fold, &e) ||
            name_key(nfc, strlen(nfc), key, sizeof key, &e))
                die("name: %s", e.msg);

        char stored[NAME_MAX_BYTES + 1], claim[NAME_MAX_BYTES + 1];
        snprintf(stored, sizeof stored, "%s", nfc);
        snprintf(claim, sizeof claim, "%s", nfc);
        const char *names[] = {"verify_sign ES256 (cjose, OpenSSL)", "Ed25519 sign (libsodium)",
                               "answer JSON (pack + dump)", "match_name, NFD claim (normalized)",
                               "same-bytes check (verify.c fast path)"};
        enum { N_OPS = 5 };
        double t[N_OPS][REPS_MAX];
        volatile size_t sink = 0;
        for (int r = 0; r < reps; r++) {
                for (int op = 0; op < N_OPS; op++) {
                        double t0 = cpu_s();
                        for (int64_t i = 0; i < n; i++) {
                                if (op == 0) {
                                        json_t *d = answer_doc((int)i);
                                        char *jws = NULL;
                                        if (!d || verify_sign(signer, d, &jws, &e))
                                                die("sign: %s", e.msg);
                                        sink += strlen(jws);
                                        free(jws);
                                        json_decref(d);
                                } else if (op == 1) {
                                        json_t *d = answer_doc((int)i);
                                        char *text =
                                            json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER);
                                        if (!text)
                                                die("out of memory");
                                        crypto_sign_detached(sig, NULL, (unsigned char *)text,
                                                             strlen(text), sk);
                                        sink += sig[0];
                                        free(text);
                                        json_decref(d);
                                } else if (op == 2) {
                                        json_t *d = answer_doc((int)i);
                                        char *text =
                                            json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER);
                                        if (!text)
                                                die("out of memory");
                                        sink += strlen(text);
                                        free(text);
                                        json_decref(d);
                                } else if (op == 3) {
                                        struct match_result m;
                                        if (match_name(nfd, strlen(nfd), fold, key, MATCH_EXACT, &m,
                                                       &e) ||
                                            !m.ok)
                                                die("match: %s", e.msg);
                                        sink += (size_t)m.score;
                                } else {
                                        size_t l = strlen(claim);
                                        sink += l == strlen(stored) && !memcmp(claim, stored, l);
                                }
                        }
                        t[op][r] = (cpu_s() - t0) / (double)n * 1e9;
                }
        }
        printf("operation | ns per op (median of %d x %lld) | per core per second\n", reps,
               (long long)n);
        for (int op = 0; op < N_OPS; op++) {
                double m = median(t[op], reps);
                printf("%s | %.0f | %.0f\n", names[op], m, 1e9 / m);
        }
        verify_signer_free(signer);
        sodium_memzero(sk, sizeof sk);
        return sink == 0;
}
