/*
 * Fuzz target for the credential parsers of src/access/policy.c: the input is an Authorization
 * header value (access_bearer_parse, on a NUL-terminated copy) and, as it is, a bare token
 * (access_token_parse). Aborts when an invariant breaks:
 *   - a refused header gets 401 with token-missing or token-malformed and a terminated detail;
 *   - an accepted token is popid_<id>_<secret> with a valid client id, a secret of exactly 43
 *     base64url characters that decodes to 32 bytes and encodes back to itself (one spelling per
 *     secret), and its text is the input's (the header's token part);
 *   - an accepted header's token parses alone to the same parts;
 *   - hashing and verifying an accepted token against a client never crashes and verifies only
 *     against the client it names with the matching hash.
 * Corpus: fuzz/corpus/token/.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/access.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
        fprintf(stderr, "invariant broken: %s\n", what);
        abort();
}

static void check_token(const struct access_token *t)
{
        size_t id_len = strlen(t->client_id);
        if (access_id_check(t->client_id, id_len, NULL) != 0)
                die("bad client id accepted");
        if (strlen(t->secret) != ACCESS_SECRET_B64)
                die("secret length");
        if (t->len != strlen(t->text) || t->len != 6 + id_len + 1 + ACCESS_SECRET_B64 ||
            t->len > ACCESS_TOKEN_MAX)
                die("token length");
        if (memcmp(t->text, "popid_", 6) != 0 || memcmp(t->text + 6, t->client_id, id_len) != 0 ||
            t->text[6 + id_len] != '_' || strcmp(t->text + 7 + id_len, t->secret) != 0)
                die("token parts");
        unsigned char bin[ACCESS_SECRET_BYTES + 8];
        size_t bin_len = 0;
        const char *end = NULL;
        if (sodium_base642bin(bin, sizeof bin, t->secret, ACCESS_SECRET_B64, NULL, &bin_len, &end,
                              sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
            bin_len != ACCESS_SECRET_BYTES || end != t->secret + ACCESS_SECRET_B64)
                die("secret does not decode to 32 bytes");
        char again[ACCESS_SECRET_B64 + 1];
        sodium_bin2base64(again, sizeof again, bin, ACCESS_SECRET_BYTES,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        if (strcmp(again, t->secret) != 0)
                die("secret is not canonical");
}

static void check_verify(const struct access_token *t)
{
        static const uint8_t pepper[ACCESS_PEPPER_LEN] = {7};
        uint8_t hash[ACCESS_HASH_LEN];
        char id[ACCESS_SECRET_ID_LEN + 1];
        access_token_hash(pepper, t->text, t->len, hash, id);
        if (strlen(id) != ACCESS_SECRET_ID_LEN)
                die("secret id length");
        struct access_client c;
        memset(&c, 0, sizeof c);
        snprintf(c.id, sizeof c.id, "%s", t->client_id);
        memcpy(c.secret.id, id, sizeof id);
        memcpy(c.secret.hash, hash, sizeof hash);
        struct access_denial d;
        if (access_verify(&c, t, hash, 0, &d) != 0)
                die("own hash refused");
        snprintf(c.id, sizeof c.id, "%s", strcmp(t->client_id, "x") ? "x" : "y");
        if (access_verify(&c, t, hash, 0, &d) != POP_ERULE || strcmp(d.rule, "token-unknown"))
                die("hash accepted for another client");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static int ready;
        if (!ready) {
                if (sodium_init() < 0)
                        abort();
                ready = 1;
        }
        struct access_token t;
        struct pop_err err;
        pop_err_clear(&err);
        int rc = access_token_parse((const char *)data, size, &t, &err);
        if (rc == 0) {
                if (t.len != size || memcmp(t.text, data, size) != 0)
                        die("token text differs from the input");
                check_token(&t);
                check_verify(&t);
        } else if (rc != POP_EINVAL || strcmp(err.rule, "token-malformed") != 0 ||
                   !memchr(err.msg, '\0', sizeof err.msg)) {
                die("token refusal");
        }

        char *h = malloc(size + 1);
        if (!h)
                return 0;
        memcpy(h, data, size);
        h[size] = '\0';
        struct access_denial d;
        memset(&d, 0, sizeof d);
        rc = access_bearer_parse(h, &t, &d);
        if (rc == 0) {
                check_token(&t);
                if (!strstr(h, t.text))
                        die("header token not from the header");
                struct access_token alone;
                if (access_token_parse(t.text, t.len, &alone, NULL) != 0 ||
                    strcmp(alone.client_id, t.client_id) || strcmp(alone.secret, t.secret))
                        die("header token does not parse alone");
        } else {
                if (rc != POP_ERULE || d.status != 401 || !d.rule ||
                    (strcmp(d.rule, "token-missing") && strcmp(d.rule, "token-malformed")) ||
                    !memchr(d.detail, '\0', sizeof d.detail))
                        die("header refusal");
        }
        free(h);
        return 0;
}
