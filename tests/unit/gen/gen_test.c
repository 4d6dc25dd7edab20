/*
 * Unit tests of src/gen (the `popid gen` population): the same seed gives the same bytes and
 * another seed other bytes; exactly N lines for any N; every line of a large run checked against
 * docs/FORMATS.md with jansson (keys, order, values, personal ID numbers valid and consistent
 * with the date of birth and sex, unique; parents on earlier lines, of the right sex, older;
 * spouses naming each other, of opposite sex and of age to marry; one living head per household
 * and one address; deceased people with no household, temporary residence or card; temporary
 * residence at most 2 years; chip cards valid today; names NFC and unchanged by name_normalize);
 * CSV with the documented header carries the same people; rough demographic shares; a date other
 * than the default; failures of options and of the writer.
 */
#include "testutil.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/idcard.h"
#include "core/name.h"
#include "core/pid.h"
#include "core/region.h"
#include "gen/gen.h"

/* Smaller runs under the sanitizers, which make jansson and the checks ten times slower. */
#if defined(__SANITIZE_ADDRESS__)
#define BIG_RUN 60000
#else
#define BIG_RUN 300000
#endif

/* ---- writers ---- */

struct hash_sink {
        uint64_t h;
        uint64_t bytes, lines;
        bool chunks_end_lines;
};

static int hash_write(void *ctx, const char *buf, size_t len)
{
        struct hash_sink *s = ctx;
        for (size_t i = 0; i < len; i++) {
                s->h = (s->h ^ (unsigned char)buf[i]) * 0x100000001b3ULL;
                s->lines += buf[i] == '\n';
        }
        s->bytes += len;
        if (len && buf[len - 1] != '\n')
                s->chunks_end_lines = false;
        return 0;
}

static struct hash_sink run_hash(uint64_t people, uint64_t seed, enum gen_format f)
{
        struct hash_sink s = {0xcbf29ce484222325ULL, 0, 0, true};
        struct gen_opts o = {.people = people, .seed = seed, .format = f};
        struct gen_stats st;
        struct pop_err e = {0};
        int rc = gen_run(&o, hash_write, &s, &st, &e);
        if (rc)
                fail_msg("gen_run: %d %s", rc, e.msg);
        assert_int_equal(st.people, people);
        assert_int_equal(st.bytes, s.bytes);
        return s;
}

struct mem_sink {
        char *data;
        size_t len, cap;
};

static int mem_write(void *ctx, const char *buf, size_t len)
{
        struct mem_sink *m = ctx;
        if (m->len + len + 1 > m->cap) {
                size_t cap = (m->len + len + 1) * 2;
                char *d = realloc(m->data, cap);
                if (!d)
                        return POP_ENOMEM;
                m->data = d;
                m->cap = cap;
        }
        memcpy(m->data + m->len, buf, len);
        m->len += len;
        m->data[m->len] = '\0';
        return 0;
}

static struct mem_sink run_mem(uint64_t people, uint64_t seed, enum gen_format f,
                               struct pdate today)
{
        struct mem_sink m = {0};
        struct gen_opts o = {.people = people, .seed = seed, .format = f, .today = today};
        struct pop_err e = {0};
        int rc = gen_run(&o, mem_write, &m, NULL, &e);
        if (rc)
                fail_msg("gen_run: %d %s", rc, e.msg);
        if (!m.data)
                m.data = calloc(1, 1);
        return m;
}

/* ---- the checker of docs/FORMATS.md ---- */

struct rec {
        int64_t pid;
        struct pdate dob;
        enum sex sex;
        bool deceased;
        int32_t death; /* days, when deceased */
        int64_t spouse;
        int64_t line;
};

struct hh {
        int32_t living, heads;
        uint64_t addr; /* hash of the address, 0 before the first member */
};

struct checker {
        struct pdate today;
        int32_t today_days, merger_days;
        /* pid -> record: open addressing */
        struct rec *recs;
        int64_t n_recs;
        int64_t *slots;
        uint64_t n_slots;
        struct hh *hhs;
        uint64_t n_hhs;
        int64_t lines;
        /* shares */
        int64_t living, male, female, under15, nguyen, deceased, temporary, partial, cards, aged14,
            singles, minors, minors_with_parents;
};

static const char *const keys[] = {
    "pid",       "name",        "dob",     "sex",    "birth_province", "hometown",    "ethnicity",
    "religion",  "nationality", "father",  "mother", "spouse",         "status",      "death_date",
    "household", "relation",    "address", "since",  "temporary",      "card_issued",
};

static uint64_t fnv(const char *s, uint64_t h)
{
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
        return (h ^ '|') * 0x100000001b3ULL;
}

static void checker_init(struct checker *c, uint64_t people, struct pdate today)
{
        memset(c, 0, sizeof *c);
        c->today = today;
        c->today_days = date_to_days(today);
        c->merger_days = date_to_days((struct pdate){2025, 7, 1});
        c->recs = calloc(people + 1, sizeof *c->recs);
        c->n_slots = 1;
        while (c->n_slots < 2 * people + 16)
                c->n_slots *= 2;
        c->slots = malloc(c->n_slots * sizeof *c->slots);
        memset(c->slots, -1, c->n_slots * sizeof *c->slots);
        c->n_hhs = people + 2;
        c->hhs = calloc(c->n_hhs, sizeof *c->hhs);
        assert_non_null(c->recs);
        assert_non_null(c->hhs);
}

static void checker_free(struct checker *c)
{
        free(c->recs);
        free(c->slots);
        free(c->hhs);
}

static int64_t *slot_of(struct checker *c, int64_t pid)
{
        uint64_t i = ((uint64_t)pid * 0x9e3779b97f4a7c15ULL) >> 20;
        for (;; i++) {
                int64_t *s = &c->slots[i & (c->n_slots - 1)];
                if (*s < 0 || c->recs[*s].pid == pid)
                        return s;
        }
}

static struct rec *find(struct checker *c, const char *pid)
{
        int64_t *s = slot_of(c, pid_to_int(pid));
        return *s < 0 ? NULL : &c->recs[*s];
}

static const char *str(json_t *o, const char *k)
{
        json_t *v = json_object_get(o, k);
        if (!v)
                return NULL;
        if (!json_is_string(v))
                fail_msg("%s is not a string", k);
        return json_string_value(v);
}

static struct pdate date_of(const char *s, bool full)
{
        struct pdate d;
        struct pop_err e = {0};
        int rc = full ? pdate_parse_full(s, strlen(s), &d, &e) : pdate_parse(s, strlen(s), &d, &e);
        if (rc)
                fail_msg("bad date '%s': %s", s, e.msg);
        return d;
}

static int32_t days(struct pdate d)
{
        return date_to_days(d);
}

static void check_province_code(struct checker *c, const char *s, struct pdate on)
{
        int code;
        struct pop_err e = {0};
        assert_int_equal(strlen(s), 2);
        if (region_parse_province(s, 2, &code, &e) || region_check_province(code, on, &e))
                fail_msg("province %s on %d-%02d-%02d: %s", s, on.y, on.m, on.d, e.msg);
        (void)c;
}

static void check_place(struct checker *c, json_t *a, bool temporary)
{
        assert_true(json_is_object(a));
        size_t n_keys = temporary ? 5 : 3;
        assert_int_equal(json_object_size(a), n_keys);
        const char *prov = str(a, "province"), *commune = str(a, "commune"), *line = str(a, "line");
        assert_non_null(prov);
        assert_non_null(commune);
        assert_non_null(line);
        check_province_code(c, prov, c->today);
        struct pop_err e = {0};
        if (region_check_commune(commune, strlen(commune), &e))
                fail_msg("commune %s: %s", commune, e.msg);
        char norm[TEXT_MAX_BYTES];
        if (text_normalize(line, strlen(line), norm, sizeof norm, &e) || strcmp(norm, line))
                fail_msg("address line '%s' is not normalized text", line);
}

/* Checks one JSONL line against the rules of docs/FORMATS.md that need only earlier lines. */
static void check_line(struct checker *c, const char *line, size_t len)
{
        c->lines++;
        assert_true(len <= 16384);
        json_error_t je;
        json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
        if (!o)
                fail_msg("line %lld: %s: %.*s", (long long)c->lines, je.text, (int)len, line);
        assert_true(json_is_object(o));

        /* Known keys only, in the documented order. */
        size_t k = 0;
        for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
                const char *key = json_object_iter_key(it);
                while (k < sizeof keys / sizeof keys[0] && strcmp(keys[k], key))
                        k++;
                if (k == sizeof keys / sizeof keys[0])
                        fail_msg("line %lld: key %s unknown or out of order", (long long)c->lines,
                                 key);
                assert_false(json_is_null(json_object_iter_value(it)));
        }

        /* The number, consistent with the date of birth and sex, and unique. */
        const char *pid = str(o, "pid"), *name = str(o, "name"), *dob_s = str(o, "dob"),
                   *sex_s = str(o, "sex"), *bp = str(o, "birth_province");
        assert_non_null(pid);
        assert_non_null(name);
        assert_non_null(dob_s);
        assert_non_null(sex_s);
        assert_non_null(bp);
        struct pid_info id;
        struct pop_err e = {0};
        if (pid_parse(pid, strlen(pid), &id, &e))
                fail_msg("pid %s: %s", pid, e.msg);
        struct pdate dob = date_of(dob_s, false);
        enum sex sex;
        assert_int_equal(sex_parse(sex_s, &sex, &e), 0);
        assert_true(!strcmp(sex_s, "male") || !strcmp(sex_s, "female"));
        if (pid_check_person(&id, dob, sex, &e))
                fail_msg("%s", e.msg);
        assert_true(days(pdate_earliest(dob)) <= c->today_days);
        assert_int_equal(strlen(bp), 2);
        assert_memory_equal(pid + 1, bp, 2);
        assert_int_equal(pid[0], '0');
        /* The prefix is the province where the birth was registered: a legacy province before the
         * merger, a current unit after. */
        if (days(pdate_earliest(dob)) >= c->merger_days)
                assert_non_null(region_unit(id.prefix));
        else
                assert_non_null(region_legacy(id.prefix));
        int64_t *slot = slot_of(c, pid_to_int(pid));
        if (*slot >= 0)
                fail_msg("pid %s appears twice (line %lld)", pid, (long long)c->lines);
        *slot = c->n_recs;
        struct rec *r = &c->recs[c->n_recs++];
        r->pid = pid_to_int(pid);
        r->dob = dob;
        r->sex = sex;
        r->line = c->lines;
        if (dob.m == 0 || dob.d == 0)
                c->partial++;

        /* The name: NFC, normalized, letters, spaces, hyphens and apostrophes. */
        char norm[NAME_MAX_BYTES + 1];
        if (name_normalize(name, strlen(name), norm, sizeof norm, &e))
                fail_msg("name '%s': %s", name, e.msg);
        if (strcmp(norm, name))
                fail_msg("name '%s' changes under name_normalize: '%s'", name, norm);
        if (!strncmp(name, "Nguyễn ", strlen("Nguyễn ")))
                c->nguyen++;

        const char *ht = str(o, "hometown"), *et = str(o, "ethnicity"), *rel = str(o, "religion"),
                   *nat = str(o, "nationality");
        assert_true(ht && *ht && et && *et);
        if (rel)
                assert_true(*rel);
        assert_string_equal(nat, "VNM");

        /* Parents: on earlier lines, father male, mother female, born before (15 years or more). */
        static const char *const parents[] = {"father", "mother"};
        for (int i = 0; i < 2; i++) {
                const char *pp = str(o, parents[i]);
                if (!pp)
                        continue;
                struct rec *p = find(c, pp);
                if (!p)
                        fail_msg("line %lld: %s %s is not on an earlier line", (long long)c->lines,
                                 parents[i], pp);
                assert_int_equal(p->sex, i == 0 ? SEX_MALE : SEX_FEMALE);
                assert_int_equal(pdate_cmp(p->dob, dob), -1);
                if (dob.y - p->dob.y < 15)
                        fail_msg("line %lld: %s born %d, child %d", (long long)c->lines, parents[i],
                                 p->dob.y, dob.y);
                /* A dead parent was alive when the child was conceived. */
                if (p->deceased && p->death < days(pdate_earliest(dob)) - 300)
                        fail_msg("line %lld: %s died before the birth", (long long)c->lines,
                                 parents[i]);
        }

        const char *status = str(o, "status");
        assert_non_null(status);
        const char *spouse = str(o, "spouse");
        r->spouse = spouse ? pid_to_int(spouse) : 0;
        if (!strcmp(status, "deceased")) {
                c->deceased++;
                r->deceased = true;
                struct pdate dd = date_of(str(o, "death_date"), true);
                r->death = days(dd);
                assert_true(days(dd) >= days(pdate_earliest(dob)));
                assert_true(days(dd) <= c->today_days);
                assert_null(json_object_get(o, "household"));
                assert_null(json_object_get(o, "relation"));
                assert_null(json_object_get(o, "address"));
                assert_null(json_object_get(o, "since"));
                assert_null(json_object_get(o, "temporary"));
                assert_null(json_object_get(o, "card_issued"));
                assert_null(spouse);
                json_decref(o);
                return;
        }
        assert_string_equal(status, "living");
        assert_null(json_object_get(o, "death_date"));
        c->living++;
        int age = date_age_on(dob, c->today);
        assert_true(age >= 0 && age <= 110);
        if (sex == SEX_MALE)
                c->male++;
        else
                c->female++;
        if (age < 15)
                c->under15++;
        if (age < 18) {
                c->minors++;
                if (json_object_get(o, "father") || json_object_get(o, "mother"))
                        c->minors_with_parents++;
        }

        /* Household, relation, address and since. */
        const char *hh = str(o, "household"), *relation = str(o, "relation");
        assert_non_null(hh);
        assert_non_null(relation);
        assert_true(strlen(hh) <= 32);
        static const char *const relations[] = {"head",        "spouse",   "child",
                                                "parent",      "sibling",  "grandchild",
                                                "grandparent", "relative", "other"};
        bool known = false;
        for (size_t i = 0; i < sizeof relations / sizeof relations[0]; i++)
                known |= !strcmp(relation, relations[i]);
        assert_true(known);
        assert_true(hh[0] == 'H' && strlen(hh) == 11);
        uint64_t hn = strtoull(hh + 1, NULL, 10);
        assert_true(hn >= 1 && hn < c->n_hhs);
        json_t *addr = json_object_get(o, "address");
        check_place(c, addr, false);
        uint64_t ah =
            fnv(str(addr, "line"),
                fnv(str(addr, "commune"), fnv(str(addr, "province"), 0xcbf29ce484222325ULL)));
        struct hh *h = &c->hhs[hn];
        if (!h->addr)
                h->addr = ah;
        else if (h->addr != ah)
                fail_msg("household %s has two addresses", hh);
        h->living++;
        h->heads += !strcmp(relation, "head");
        struct pdate since = date_of(str(o, "since"), true);
        assert_true(days(since) >= days(pdate_earliest(dob)));
        assert_true(days(since) <= c->today_days);

        /* Temporary residence: registered for at most 2 years (Law on Residence 2020 art. 27). */
        json_t *tmp = json_object_get(o, "temporary");
        if (tmp) {
                c->temporary++;
                check_place(c, tmp, true);
                struct pdate from = date_of(str(tmp, "from"), true),
                             until = date_of(str(tmp, "until"), true);
                assert_true(days(from) <= days(until));
                assert_true(days(until) <= days(date_add_years(from, 2)));
                assert_true(days(from) <= c->today_days);
                assert_true(days(from) >= days(pdate_earliest(dob)));
        }

        /* The chip card: issued from 14, valid today. */
        if (age >= 14)
                c->aged14++;
        const char *ci = str(o, "card_issued");
        if (ci) {
                c->cards++;
                struct pdate issued = date_of(ci, true), expires;
                bool never;
                assert_true(days(issued) <= c->today_days);
                assert_true(date_age_on(dob, issued) >= 14);
                assert_true(issued.y >= 2021);
                assert_int_equal(idcard_expiry(dob, issued, &expires, &never, &e), 0);
                if (!never && days(expires) <= c->today_days)
                        fail_msg("line %lld: card issued %s expired", (long long)c->lines, ci);
        }
        json_decref(o);
}

/* The rules that look forward: spouses, one head per household. */
static void check_end(struct checker *c)
{
        for (int64_t i = 0; i < c->n_recs; i++) {
                struct rec *r = &c->recs[i];
                if (!r->spouse)
                        continue;
                char sp[PID_LEN + 1], me[PID_LEN + 1];
                pid_from_int(r->spouse, sp);
                pid_from_int(r->pid, me);
                struct rec *s = find(c, sp);
                if (!s)
                        fail_msg("spouse %s of %s is not in the file", sp, me);
                if (s->spouse != r->pid)
                        fail_msg("spouse %s of %s does not name them back", sp, me);
                assert_int_not_equal(s->sex, r->sex);
                assert_false(s->deceased);
                /* Law on Marriage and Family 2014 art. 8: men from 20, women from 18. */
                assert_true(date_age_on(r->dob, c->today) >= (r->sex == SEX_MALE ? 20 : 18));
        }
        for (uint64_t i = 0; i < c->n_hhs; i++) {
                if (!c->hhs[i].living)
                        continue;
                if (c->hhs[i].heads != 1)
                        fail_msg("household H%010llu has %d heads", (unsigned long long)i,
                                 c->hhs[i].heads);
                c->singles += c->hhs[i].living == 1;
        }
}

static void check_all(struct checker *c, const char *data, size_t len)
{
        const char *p = data, *end = data + len;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                assert_non_null(nl);
                check_line(c, p, (size_t)(nl - p));
                p = nl + 1;
        }
}

/* Streams the output of a run straight into the checker: chunks end at line ends. */
static int check_write(void *ctx, const char *buf, size_t len)
{
        assert_true(len > 0 && buf[len - 1] == '\n');
        check_all(ctx, buf, len);
        return 0;
}

static void run_checked(struct checker *c, uint64_t people, uint64_t seed, struct pdate today)
{
        checker_init(c, people, pdate_is_none(today) ? (struct pdate){2026, 1, 1} : today);
        struct gen_opts o = {.people = people, .seed = seed, .format = GEN_JSONL, .today = today};
        struct gen_stats st;
        struct pop_err e = {0};
        int rc = gen_run(&o, check_write, c, &st, &e);
        if (rc)
                fail_msg("gen_run: %d %s", rc, e.msg);
        assert_int_equal(c->lines, people);
        assert_int_equal(st.people, people);
        assert_int_equal(st.deceased, c->deceased);
        check_end(c);
}

/* ---- tests ---- */

static void test_deterministic(void **state)
{
        (void)state;
        struct hash_sink a = run_hash(50000, 42, GEN_JSONL), b = run_hash(50000, 42, GEN_JSONL),
                         d = run_hash(50000, 43, GEN_JSONL);
        assert_true(a.h == b.h && a.bytes == b.bytes);
        assert_true(a.h != d.h);
        assert_true(a.chunks_end_lines && d.chunks_end_lines);
        struct hash_sink x = run_hash(50000, 42, GEN_CSV), y = run_hash(50000, 42, GEN_CSV);
        assert_true(x.h == y.h);
        /* A different date is a different population. */
        struct mem_sink m1 = run_mem(100, 42, GEN_JSONL, (struct pdate){0});
        struct mem_sink m2 = run_mem(100, 42, GEN_JSONL, (struct pdate){2026, 1, 1});
        struct mem_sink m3 = run_mem(100, 42, GEN_JSONL, (struct pdate){2030, 6, 15});
        assert_string_equal(m1.data, m2.data); /* the default date is 2026-01-01 */
        assert_string_not_equal(m1.data, m3.data);
        free(m1.data);
        free(m2.data);
        free(m3.data);
}

static void test_exact_count(void **state)
{
        (void)state;
        static const uint64_t counts[] = {0, 1, 2, 3, 4, 5, 7, 15, 16, 17, 33, 100, 999, 4097};
        for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
                for (uint64_t seed = 1; seed <= 5; seed++) {
                        struct hash_sink s = run_hash(counts[i], seed, GEN_JSONL);
                        assert_int_equal(s.lines, counts[i]);
                        struct hash_sink t = run_hash(counts[i], seed, GEN_CSV);
                        assert_int_equal(t.lines, counts[i] + 1); /* the header */
                        /* Cut households keep every rule: spouses, parents, one head. */
                        struct checker c;
                        run_checked(&c, counts[i], seed, (struct pdate){0});
                        checker_free(&c);
                }
        }
}

static void test_every_line_valid(void **state)
{
        (void)state;
        struct checker c;
        run_checked(&c, BIG_RUN, 2026, (struct pdate){0});
        double living = (double)c.living;
        fprintf(stderr,
                "  %lld people: %lld living, %.1f%% deceased, Nguyễn %.1f%%, %.1f men per 100 "
                "women, %.1f%% under 15, %.1f%% temporary, %.2f%% partial dob, cards %.1f%% of "
                "14+, %lld one-person households, %.1f%% of minors with a parent\n",
                (long long)c.lines, (long long)c.living, 100.0 * c.deceased / c.lines,
                100.0 * c.nguyen / c.lines, 100.0 * c.male / c.female, 100.0 * c.under15 / living,
                100.0 * c.temporary / living, 100.0 * c.partial / c.lines,
                100.0 * c.cards / c.aged14, (long long)c.singles,
                100.0 * c.minors_with_parents / c.minors);
        /* Census 2019 and the usual surname figures, roughly. */
        assert_true(c.nguyen > 0.33 * c.lines && c.nguyen < 0.43 * c.lines);
        assert_true(c.male > 0.95 * c.female && c.male < 1.05 * c.female);
        assert_true(c.under15 > 0.20 * living && c.under15 < 0.29 * living);
        assert_true(c.deceased > 0 && c.deceased < 0.10 * c.lines);
        assert_true(c.temporary > 0.005 * living && c.temporary < 0.10 * living);
        assert_true(c.partial > 0 && c.partial < 0.05 * c.lines);
        assert_true(c.cards > 0.70 * c.aged14);
        assert_true(c.singles > 0);
        assert_true(c.minors_with_parents > 0.9 * c.minors);
        checker_free(&c);
}

static void test_other_today(void **state)
{
        (void)state;
        /* Before the 2025 merger and before chip cards: legacy province codes, no cards. */
        struct checker c;
        run_checked(&c, 20000, 9, (struct pdate){2015, 3, 1});
        assert_int_equal(c.cards, 0);
        checker_free(&c);
        /* Long after: births registered in the current units. */
        run_checked(&c, 20000, 9, (struct pdate){2060, 12, 31});
        assert_true(c.cards > 0);
        checker_free(&c);
        /* Leap day. */
        run_checked(&c, 5000, 9, (struct pdate){2028, 2, 29});
        checker_free(&c);
        /* The ends of the range: birth years from 1900, ID numbers of the 2300s. */
        run_checked(&c, 5000, 9, (struct pdate){GEN_TODAY_MIN_YEAR, 1, 1});
        checker_free(&c);
        run_checked(&c, 5000, 9, (struct pdate){GEN_TODAY_MAX_YEAR, 12, 31});
        checker_free(&c);
}

/* Splits one CSV record (no line breaks inside fields) into fields, unquoting. */
static int csv_fields(const char *line, size_t len, char fields[][512], int max)
{
        int n = 0;
        size_t i = 0;
        for (;;) {
                assert_true(n < max);
                char *out = fields[n++];
                size_t o = 0;
                if (i < len && line[i] == '"') {
                        i++;
                        for (;;) {
                                assert_true(i < len);
                                if (line[i] == '"') {
                                        if (i + 1 < len && line[i + 1] == '"') {
                                                out[o++] = '"';
                                                i += 2;
                                                continue;
                                        }
                                        i++;
                                        break;
                                }
                                out[o++] = line[i++];
                        }
                } else {
                        while (i < len && line[i] != ',')
                                out[o++] = line[i++];
                }
                out[o] = '\0';
                if (i == len)
                        return n;
                assert_int_equal(line[i], ',');
                i++;
        }
}

static const char *jget(json_t *o, const char *k)
{
        json_t *v = json_object_get(o, k);
        return v ? json_string_value(v) : "";
}

static void test_csv_same_people(void **state)
{
        (void)state;
        /* The header is the one in the contract, docs/FORMATS.md. */
        char path[1024];
        snprintf(path, sizeof path, "%s/docs/FORMATS.md", tu_source_dir());
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        char doc_line[2048];
        bool found = false;
        while (fgets(doc_line, sizeof doc_line, f))
                if (!strncmp(doc_line, "pid,name,", 9)) {
                        found = true;
                        break;
                }
        fclose(f);
        assert_true(found);
        assert_string_equal(doc_line, gen_csv_header);

        uint64_t n = 20000;
        struct mem_sink j = run_mem(n, 5, GEN_JSONL, (struct pdate){0});
        struct mem_sink c = run_mem(n, 5, GEN_CSV, (struct pdate){0});
        assert_memory_equal(c.data, gen_csv_header, strlen(gen_csv_header));
        const char *jp = j.data, *cp = c.data + strlen(gen_csv_header);
        static char fields[32][512];
        static const char *const cols[] = {
            "pid",       "name",       "dob",          "sex",         "birth_province", "hometown",
            "ethnicity", "religion",   "nationality",  "father",      "mother",         "spouse",
            "status",    "death_date", "household",    "relation",    "province",       "commune",
            "address",   "since",      "tmp_province", "tmp_commune", "tmp_address",    "tmp_from",
            "tmp_until", "card_issued"};
        int64_t quoted = 0;
        for (uint64_t i = 0; i < n; i++) {
                const char *jn = strchr(jp, '\n'), *cn = strchr(cp, '\n');
                assert_non_null(jn);
                assert_non_null(cn);
                quoted += memchr(cp, '"', (size_t)(cn - cp)) != NULL;
                int nf = csv_fields(cp, (size_t)(cn - cp), fields, 32);
                assert_int_equal(nf, 26);
                json_t *o = json_loadb(jp, (size_t)(jn - jp), 0, NULL);
                assert_non_null(o);
                json_t *a = json_object_get(o, "address"), *t = json_object_get(o, "temporary");
                for (int k = 0; k < 26; k++) {
                        const char *want;
                        if (k >= 16 && k <= 18)
                                want = a ? jget(a, k == 16   ? "province"
                                                   : k == 17 ? "commune"
                                                             : "line")
                                         : "";
                        else if (k >= 20 && k <= 24) {
                                static const char *const tk[] = {"province", "commune", "line",
                                                                 "from", "until"};
                                want = t ? jget(t, tk[k - 20]) : "";
                        } else
                                want = jget(o, cols[k]);
                        if (strcmp(want, fields[k]))
                                fail_msg("line %llu column %s: jsonl '%s', csv '%s'",
                                         (unsigned long long)i + 1, cols[k], want, fields[k]);
                }
                json_decref(o);
                jp = jn + 1;
                cp = cn + 1;
        }
        assert_int_equal(*jp, '\0');
        assert_int_equal(*cp, '\0');
        assert_true(quoted > 0); /* addresses with commas are quoted */
        free(j.data);
        free(c.data);
}

static int failing_write(void *ctx, const char *buf, size_t len)
{
        (void)buf;
        (void)len;
        int *calls = ctx;
        return ++*calls == 2 ? POP_EIO : 0;
}

static void test_errors(void **state)
{
        (void)state;
        struct pop_err e = {0};
        struct hash_sink s = {0};
        struct gen_opts o = {.people = 10, .seed = 1, .today = {2026, 1, 0}};
        assert_int_equal(gen_run(&o, hash_write, &s, NULL, &e), POP_EINVAL);
        assert_string_equal(e.rule, "gen-today");
        o.today = (struct pdate){1999, 12, 31};
        assert_int_equal(gen_run(&o, hash_write, &s, NULL, &e), POP_EINVAL);
        o.today = (struct pdate){2391, 1, 1};
        assert_int_equal(gen_run(&o, hash_write, &s, NULL, &e), POP_EINVAL);
        o.today = (struct pdate){2025, 2, 29};
        assert_int_equal(gen_run(&o, hash_write, &s, NULL, &e), POP_EINVAL);
        o.today = (struct pdate){0};
        o.people = GEN_MAX_PEOPLE + 1;
        assert_int_equal(gen_run(&o, hash_write, &s, NULL, &e), POP_EINVAL);
        o.people = 10;
        o.format = (enum gen_format)7;
        assert_int_equal(gen_run(&o, hash_write, &s, NULL, &e), POP_EINVAL);
        /* A failing writer stops the run with its code. */
        int calls = 0;
        o.format = GEN_JSONL;
        o.people = 20000;
        assert_int_equal(gen_run(&o, failing_write, &calls, NULL, &e), POP_EIO);
        assert_int_equal(calls, 2);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_deterministic),    cmocka_unit_test(test_exact_count),
            cmocka_unit_test(test_every_line_valid), cmocka_unit_test(test_other_today),
            cmocka_unit_test(test_csv_same_people),  cmocka_unit_test(test_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
