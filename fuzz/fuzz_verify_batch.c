/*
 * Fuzz target for the batch verification line parser (src/eid/verify_batch.c) and the matching
 * it feeds (src/core/match.c). The first byte picks the format (even: CSV, odd: JSONL) and the
 * match mode; the rest is split into lines as the server splits the spool, the first CSV line
 * being the header. A line may be refused, but never with a crash or an empty rule or message;
 * an accepted line has a well-formed pid and claims inside the line's own buffer, and every
 * claim is then matched against a fixed registry record, which must not crash either.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/name.h"
#include "eid/verify_batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
        if (!ok)
                abort();
}

static void match_claims(const struct vb_line *l)
{
        static const char fold[] = "nguyễn văn đức", key[] = "nguyen van duc";
        const struct pdate dob = {1990, 5, 12};
        struct match_result r;
        struct pop_err e = {0};
        const struct verify_claim *c = l->rq.claim;
        if (c[VERIFY_A_NAME].s &&
            match_name(c[VERIFY_A_NAME].s, c[VERIFY_A_NAME].len, fold, key, l->rq.mode, &r, &e))
                check(e.msg[0] != '\0');
        if (c[VERIFY_A_DOB].s &&
            match_dob(c[VERIFY_A_DOB].s, c[VERIFY_A_DOB].len, dob, l->rq.mode, &r, &e))
                check(e.msg[0] != '\0');
        if (c[VERIFY_A_SEX].s &&
            match_sex(c[VERIFY_A_SEX].s, c[VERIFY_A_SEX].len, SEX_MALE, l->rq.mode, &r, &e))
                check(e.msg[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        enum vb_format f = data[0] & 1 ? VB_JSONL : VB_CSV;
        enum match_mode mode = data[0] & 2 ? MATCH_PARTIAL : MATCH_EXACT;
        const char *p = (const char *)data + 1, *end = (const char *)data + size;
        static struct vb_line l;
        struct vb_header h;
        bool have_header = f == VB_JSONL;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
                struct pop_err e = {0};
                if (!have_header) {
                        if (vb_header_parse(p, len, &h, &e)) {
                                check(e.rule[0] && e.msg[0]);
                                return 0;
                        }
                        check(h.pid >= 0 && h.col[VERIFY_A_NAME] >= 0 && h.col[VERIFY_A_DOB] >= 0);
                        have_header = true;
                } else if (vb_line_parse(f, &h, p, len, mode, &l, &e)) {
                        check(e.rule[0] && e.msg[0]);
                        for (int a = 0; a < VERIFY_N_ATTRS; a++)
                                check(!l.rq.claim[a].s);
                } else {
                        check(strlen(l.pid_text) == PID_LEN && l.rq.pid > 0);
                        for (int a = 0; a < VERIFY_N_ATTRS; a++) {
                                const struct verify_claim *c = &l.rq.claim[a];
                                check(!c->s ||
                                      (c->s >= l.buf && c->s + c->len < l.buf + sizeof l.buf));
                        }
                        match_claims(&l);
                }
                p += len + 1;
        }
        return 0;
}
