/*
 * The body of the two import fuzz targets (fuzz_import_csv.c, fuzz_import_jsonl.c): the bytes
 * are cut into lines as the reader cuts them (at '\n', a final '\r' dropped) and each line is
 * parsed and checked on its own, with no store. Any line may be refused, but never with a crash,
 * an empty rule or reason, or a field that is not a column of docs/FORMATS.md (or, in JSONL, the
 * unknown key itself); an accepted line has a valid ID and a normalized name. The including file
 * defines FORMAT.
 */
#ifndef FORMAT
#error "define FORMAT (IMP_CSV or IMP_JSONL) before including import_target.h"
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "import/import_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
        if (!ok)
                abort();
}

static void one_line(const char *s, size_t n)
{
        static const struct pdate today = {2026, 11, 23};
        struct imp_rec rec;
        struct imp_reject rej;
        if (n > 0 && s[n - 1] == '\r')
                n--;
        int rc = imp_parse_line(FORMAT, s, n, today, &rec, &rej);
        if (rc == 0) {
                struct pid_info id;
                check(pid_parse(rec.pid_text, strlen(rec.pid_text), &id, NULL) == 0);
                check(pid_to_int(rec.pid_text) == rec.p.pid);
                check(rec.p.full_name[0] && rec.p.name_key[0]);
                check(utf8_check(rec.p.full_name, strlen(rec.p.full_name), NULL) == 0);
                check(!rec.household[0] || rec.relation[0]);
                check(!rec.has_card || rec.card_never || rec.card_expires.y > 0);
                return;
        }
        check(rc == POP_EINVAL);
        check(rej.rule[0] && rej.reason[0]);
        if (!rej.field[0])
                return;
        for (int c = 0; c < N_COLS; c++)
                if (!strcmp(rej.field, imp_col_name(FORMAT, (enum imp_col)c)))
                        return;
        /* JSONL names an unknown key itself (top level or "address.<key>"). */
        check(FORMAT == IMP_JSONL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *s = (const char *)data;
        while (size > 0) {
                const char *nl = memchr(s, '\n', size);
                size_t n = nl ? (size_t)(nl - s) : size;
                one_line(s, n);
                if (!nl)
                        break;
                size -= n + 1;
                s = nl + 1;
        }
        return 0;
}
