/*
 * `popid export`: every person by date of birth then ID (so parents come before their children,
 * as docs/FORMATS.md requires; ID order would not), in the JSONL or CSV of docs/FORMATS.md, rebuilt
 * from the current tables (the person, the open permanent and temporary residence, the valid card).
 * Household keys are "H" + the household id in 10 digits, which popid import keeps as the id
 * when it is free, so export, import into an empty registry and export again gives the same
 * bytes. One read snapshot: the file is one consistent state even while others write.
 */
#include "import/import_int.h"

#include <string.h>

struct exp {
        struct store *st;
        FILE *out;
        enum imp_format fmt;
        int64_t n;
        struct pop_err *err;
};

/* The values of one person, by column; "" for absent. */
struct row {
        char v[N_COLS][REC_TEXT];
};

static void set(struct row *r, enum imp_col c, const char *s)
{
        snprintf(r->v[c], sizeof r->v[c], "%s", s);
}

static void set_date(struct row *r, enum imp_col c, struct pdate d)
{
        pdate_format(d, r->v[c]);
}

static void set_pid(struct row *r, enum imp_col c, int64_t pid)
{
        if (pid)
                pid_from_int(pid, r->v[c]);
}

static void set_province(struct row *r, enum imp_col c, int code)
{
        if (code)
                snprintf(r->v[c], sizeof r->v[c], "%02d", code);
}

static int fill(struct exp *x, const struct person *p, struct row *r)
{
        memset(r, 0, sizeof *r);
        set_pid(r, C_PID, p->pid);
        set(r, C_NAME, p->full_name);
        set_date(r, C_DOB, p->dob);
        set(r, C_SEX, sex_name(p->sex));
        set_province(r, C_BIRTH_PROVINCE, p->birth_province);
        set(r, C_HOMETOWN, p->hometown);
        set(r, C_ETHNICITY, p->ethnicity);
        set(r, C_RELIGION, p->religion);
        set(r, C_NATIONALITY, p->nationality);
        set_pid(r, C_FATHER, p->father);
        set_pid(r, C_MOTHER, p->mother);
        set_pid(r, C_SPOUSE, p->spouse);
        set(r, C_STATUS, person_status_name(p->status));
        set_date(r, C_DEATH_DATE, p->death_date);
        struct pop_err e = {0};
        struct residence res;
        int rc = store_residence_current(x->st, p->pid, RESIDENCE_PERMANENT, &res, &e);
        if (rc == 0 && res.household) {
                struct household h;
                if ((rc = store_household_get(x->st, res.household, &h, &e)))
                        return *x->err = e, rc;
                snprintf(r->v[C_HOUSEHOLD], sizeof r->v[C_HOUSEHOLD], "H%010lld",
                         (long long)res.household);
                /* The household's head is the one the household records: a relation written
                 * when someone founded it may be stale after a change of head. */
                if (h.head == p->pid)
                        set(r, C_RELATION, "head");
                else
                        set(r, C_RELATION,
                            strcmp(res.relation, "head") ? res.relation : "relative");
                set_province(r, C_PROVINCE, res.province);
                set(r, C_COMMUNE, res.commune);
                set(r, C_ADDRESS, res.address);
                set_date(r, C_SINCE, res.valid_from);
        } else if (rc && rc != POP_ENOTFOUND) {
                return *x->err = e, rc;
        }
        rc = store_residence_current(x->st, p->pid, RESIDENCE_TEMPORARY, &res, &e);
        if (rc == 0) {
                set_province(r, C_TMP_PROVINCE, res.province);
                set(r, C_TMP_COMMUNE, res.commune);
                set(r, C_TMP_ADDRESS, res.address);
                set_date(r, C_TMP_FROM, res.valid_from);
                set_date(r, C_TMP_UNTIL, res.valid_to);
        } else if (rc != POP_ENOTFOUND) {
                return *x->err = e, rc;
        }
        struct card c;
        rc = store_card_current(x->st, p->pid, &c, &e);
        if (rc == 0)
                set_date(r, C_CARD_ISSUED, c.issued);
        else if (rc != POP_ENOTFOUND)
                return *x->err = e, rc;
        return 0;
}

static void put_csv(FILE *out, const char *s)
{
        if (!strpbrk(s, ",\"")) {
                fputs(s, out);
                return;
        }
        fputc('"', out);
        for (; *s; s++) {
                if (*s == '"')
                        fputc('"', out);
                fputc(*s, out);
        }
        fputc('"', out);
}

static int write_json(struct exp *x, struct row *r)
{
        json_t *o = json_object();
        for (int c = 0; c < N_COLS; c++) {
                const char *name = imp_col_name(IMP_JSONL, (enum imp_col)c);
                if (!r->v[c][0] || strchr(name, '.'))
                        continue;
                json_object_set_new(o, name, json_string(r->v[c]));
                if (c == C_RELATION)
                        json_object_set_new(o, "address",
                                            json_pack("{s:s, s:s, s:s}", "province",
                                                      r->v[C_PROVINCE], "commune", r->v[C_COMMUNE],
                                                      "line", r->v[C_ADDRESS]));
                if (c == C_SINCE && r->v[C_TMP_FROM][0])
                        json_object_set_new(
                            o, "temporary",
                            json_pack("{s:s, s:s, s:s, s:s, s:s}", "province", r->v[C_TMP_PROVINCE],
                                      "commune", r->v[C_TMP_COMMUNE], "line", r->v[C_TMP_ADDRESS],
                                      "from", r->v[C_TMP_FROM], "until", r->v[C_TMP_UNTIL]));
        }
        /* No permanent residence: "temporary" still follows where "since" would be. */
        if (!r->v[C_SINCE][0] && r->v[C_TMP_FROM][0]) {
                json_t *card = json_incref(json_object_get(o, "card_issued"));
                json_object_del(o, "card_issued");
                json_object_set_new(o, "temporary",
                                    json_pack("{s:s, s:s, s:s, s:s, s:s}", "province",
                                              r->v[C_TMP_PROVINCE], "commune", r->v[C_TMP_COMMUNE],
                                              "line", r->v[C_TMP_ADDRESS], "from", r->v[C_TMP_FROM],
                                              "until", r->v[C_TMP_UNTIL]));
                if (card)
                        json_object_set_new(o, "card_issued", card);
        }
        int rc = json_dumpf(o, x->out, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        return rc == 0 && fputc('\n', x->out) != EOF ? 0 : -1;
}

static int each(void *ctx, const struct person *p)
{
        struct exp *x = ctx;
        struct row r;
        int rc = fill(x, p, &r);
        if (rc)
                return rc;
        if (x->fmt == IMP_CSV) {
                for (int c = 0; c < N_COLS; c++) {
                        if (c)
                                fputc(',', x->out);
                        put_csv(x->out, r.v[c]);
                }
                rc = fputc('\n', x->out) == EOF ? -1 : 0;
        } else {
                rc = write_json(x, &r);
        }
        if (rc)
                return pop_fail(x->err, POP_EIO, "export-write", "cannot write the export");
        x->n++;
        return 0;
}

int imp_export(struct reg *r, FILE *out, enum imp_format fmt, int64_t *n, struct pop_err *err)
{
        struct exp x = {.st = r->st, .out = out, .fmt = fmt, .err = err};
        *n = 0;
        int rc = store_read_begin(r->st, err);
        if (rc)
                return rc;
        if (fmt == IMP_CSV && fprintf(out, "%s\n", imp_csv_header) < 0)
                rc = pop_fail(err, POP_EIO, "export-write", "cannot write the export");
        if (rc == 0)
                rc = store_person_each(r->st, each, &x, err);
        store_read_end(r->st);
        if (rc == 0 && fflush(out) != 0)
                rc = pop_fail(err, POP_EIO, "export-write", "cannot write the export");
        *n = x.n;
        return rc;
}
