/*
 * The demo population: see demo.h. Names follow the frequencies of Vietnamese surnames (Nguyễn
 * about 38%, then Trần, Lê, Phạm, ...); people are enrolled with IDs consistent with their birth
 * year and sex, married at plausible ages, and have children through the birth event.
 */
#include "registry/demo.h"

#include <stdio.h>
#include <string.h>

/* splitmix64: small, fast, deterministic. */
static uint64_t next_u64(uint64_t *s)
{
        uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static int rnd(uint64_t *s, int n)
{
        return (int)(next_u64(s) % (uint64_t)n);
}

struct weighted {
        const char *s;
        int w;
};

/* Approximate shares of Vietnamese surnames, per mille. */
static const struct weighted surnames[] = {
    {"Nguyễn", 380}, {"Trần", 110}, {"Lê", 95},    {"Phạm", 71}, {"Hoàng", 51}, {"Huỳnh", 30},
    {"Phan", 45},    {"Vũ", 39},    {"Võ", 30},    {"Đặng", 21}, {"Bùi", 20},   {"Đỗ", 14},
    {"Hồ", 13},      {"Ngô", 13},   {"Dương", 10}, {"Lý", 5},    {"Đinh", 8},   {"Trương", 6},
};
static const char *const middle_m[] = {"Văn", "Đức", "Minh", "Quang", "Hữu", "Thành", "Công"};
static const char *const middle_f[] = {"Thị", "Ngọc", "Thu", "Thanh", "Kim", "Minh", "Bảo"};
static const char *const given_m[] = {"Anh",  "Bình", "Cường", "Dũng", "Hải", "Hùng",  "Khoa",
                                      "Long", "Nam",  "Phong", "Quân", "Sơn", "Thắng", "Tuấn",
                                      "Việt", "Đạt",  "Hiếu",  "Lộc",  "Tài", "Trung"};
static const char *const given_f[] = {"An",     "Chi",   "Dung", "Hà",    "Hạnh", "Hoa",   "Hương",
                                      "Lan",    "Linh",  "Mai",  "My",    "Ngân", "Nhung", "Oanh",
                                      "Phương", "Quỳnh", "Thảo", "Trang", "Vy",   "Yến"};
static const char *const streets[] = {
    "Lê Lợi",         "Trần Hưng Đạo",  "Nguyễn Trãi",   "Hai Bà Trưng", "Quang Trung",
    "Lý Thường Kiệt", "Phan Chu Trinh", "Điện Biên Phủ", "Hùng Vương",   "Nguyễn Huệ"};
/* Legacy provinces weighted roughly by population (GSO codes). */
static const struct weighted provinces[] = {
    {"79", 95}, {"01", 85}, {"38", 37}, {"40", 34}, {"75", 32}, {"74", 26}, {"31", 21},
    {"48", 12}, {"92", 12}, {"66", 19}, {"64", 15}, {"52", 15}, {"89", 19}, {"87", 16},
    {"27", 14}, {"33", 13}, {"30", 19}, {"36", 18}, {"37", 10}, {"42", 13}, {"46", 12},
    {"56", 12}, {"68", 13}, {"91", 17}, {"96", 12}, {"19", 13}, {"25", 15}, {"22", 13},
};

static const char *pick_w(uint64_t *s, const struct weighted *v, int n)
{
        int total = 0;
        for (int i = 0; i < n; i++)
                total += v[i].w;
        int x = rnd(s, total);
        for (int i = 0; i < n; i++) {
                if (x < v[i].w)
                        return v[i].s;
                x -= v[i].w;
        }
        return v[0].s;
}

#define PICK(s, arr) (arr[rnd(s, (int)(sizeof arr / sizeof arr[0]))])

static void make_name(uint64_t *s, enum sex sex, const char *surname, char *out, size_t cap)
{
        const char *sn =
            surname ? surname : pick_w(s, surnames, sizeof surnames / sizeof *surnames);
        if (sex == SEX_MALE)
                snprintf(out, cap, "%s %s %s", sn, PICK(s, middle_m), PICK(s, given_m));
        else
                snprintf(out, cap, "%s %s %s", sn, PICK(s, middle_f), PICK(s, given_f));
}

struct seeder {
        struct reg *r;
        const struct reg_ctx *ctx;
        uint64_t s;
        struct demo_stats *st;
        struct pop_err *err;
};

static void date_str(struct pdate d, char out[11])
{
        pdate_format(d, out);
}

/* Applies one event. Returns 0, 1 when a rule refused it, or a negative store failure. */
static int apply(struct seeder *sd, json_t *ev, json_t **res)
{
        json_t *out = NULL;
        struct pop_err e = {0};
        int rc = reg_event_apply(sd->r, sd->ctx, ev, &out, &e);
        json_decref(ev);
        if (rc == POP_ERULE || rc == POP_ECONFLICT || rc == POP_EINVAL || rc == POP_ENOTFOUND) {
                sd->st->refused++;
                return 1;
        }
        if (rc) {
                *sd->err = e;
                return rc;
        }
        sd->st->events++;
        if (res)
                *res = out;
        else
                json_decref(out);
        return 0;
}

static struct pdate random_date(uint64_t *s, int y0, int y1)
{
        struct pdate d = {(int16_t)(y0 + rnd(s, y1 - y0 + 1)), (int8_t)(1 + rnd(s, 12)),
                          (int8_t)(1 + rnd(s, 28))};
        return d;
}

static struct pdate min_date(struct pdate a, struct pdate b)
{
        return pdate_cmp(a, b) <= 0 ? a : b;
}

/* Enrols an adult with a consistent ID; returns 0 and the pid, 1 when refused. */
static int enrol(struct seeder *sd, enum sex sex, struct pdate dob, const char *prov,
                 const char *surname, json_t *where, char pid[PID_LEN + 1])
{
        char name[NAME_MAX_BYTES], d[11];
        struct pop_err e = {0};
        make_name(&sd->s, sex, surname, name, sizeof name);
        int prefix = (prov[0] - '0') * 10 + (prov[1] - '0');
        if (pid_format(prefix, dob.y, sex, (uint32_t)rnd(&sd->s, 1000000), pid, &e))
                return 1;
        date_str(dob, d);
        json_t *ev =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "enrol", "pid", pid,
                      "name", name, "dob", d, "sex", sex_name(sex), "birth_province", prov,
                      "ethnicity", "Kinh", "hometown", prov, "date", "2016-01-01");
        json_object_set_new(ev, "hometown",
                            json_string(region_legacy(prefix) ? region_legacy(prefix)->name : ""));
        json_object_update(ev, where);
        int rc = apply(sd, ev, NULL);
        if (rc == 0)
                sd->st->persons++;
        return rc;
}

static int family(struct seeder *sd)
{
        char husband[PID_LEN + 1], wife[PID_LEN + 1], d[11];
        const char *prov = pick_w(&sd->s, provinces, sizeof provinces / sizeof *provinces);
        const struct region_unit *unit = region_current_unit((prov[0] - '0') * 10 + prov[1] - '0');
        char commune[12], unitc[12], line[128];
        snprintf(commune, sizeof commune, "%05d", rnd(&sd->s, 32000));
        snprintf(unitc, sizeof unitc, "%02d", unit ? unit->code : 1);
        snprintf(line, sizeof line, "Số %d đường %s", 1 + rnd(&sd->s, 300), PICK(&sd->s, streets));
        int year_now = sd->ctx->today.y;
        struct pdate hdob = random_date(&sd->s, year_now - 85, year_now - 22);
        /* Households were registered before the 2025 merger with legacy province codes. */
        json_t *addr = json_pack("{s:{s:s, s:s, s:s}}", "address", "province", prov, "commune",
                                 commune, "line", line);
        int rc = enrol(sd, SEX_MALE, hdob, prov, NULL, addr, husband);
        json_decref(addr);
        if (rc)
                return rc < 0 ? rc : 0;
        struct person h;
        if (store_person_get(sd->r->st, pid_to_int(husband), &h, sd->err))
                return POP_ESTORE;
        struct residence res;
        if (store_residence_current(sd->r->st, h.pid, RESIDENCE_PERMANENT, &res, sd->err))
                return POP_ESTORE;
        sd->st->households++;
        if (!sd->st->sample_pid[0])
                memcpy(sd->st->sample_pid, husband, sizeof sd->st->sample_pid);
        if (rnd(&sd->s, 10) == 0)
                return 0; /* single */
        struct pdate wdob = date_add_days(hdob, rnd(&sd->s, 3000) - 700);
        json_t *join =
            json_pack("{s:I, s:s}", "household", (json_int_t)res.household, "relation", "spouse");
        rc = enrol(sd, SEX_FEMALE, wdob, prov, NULL, join, wife);
        json_decref(join);
        if (rc)
                return rc < 0 ? rc : 0;
        struct pdate wed =
            date_add_years(pdate_cmp(hdob, wdob) > 0 ? hdob : wdob, 22 + rnd(&sd->s, 6));
        wed = min_date(wed, sd->ctx->today);
        date_str(wed, d);
        if ((rc = apply(sd,
                        json_pack("{s:s, s:s, s:s, s:s}", "type", "marriage", "a", husband, "b",
                                  wife, "date", d),
                        NULL)) < 0)
                return rc;
        int kids = rnd(&sd->s, 4);
        struct pdate kdob = date_add_days(wed, 300 + rnd(&sd->s, 700));
        for (int k = 0; k < kids && pdate_cmp(kdob, sd->ctx->today) < 0; k++) {
                enum sex ks =
                    rnd(&sd->s, 100) < 52 ? SEX_MALE : SEX_FEMALE; /* sex ratio at birth */
                char name[NAME_MAX_BYTES], kd[11], reg_on[11];
                /* The child takes the father's surname, by custom. */
                char surname[64];
                size_t sl = strcspn(h.full_name, " ");
                snprintf(surname, sizeof surname, "%.*s", (int)(sl < 63 ? sl : 63), h.full_name);
                make_name(&sd->s, ks, surname, name, sizeof name);
                date_str(kdob, kd);
                date_str(min_date(date_add_days(kdob, rnd(&sd->s, 50)), sd->ctx->today), reg_on);
                /* Births are registered where the family lives: after the merger, in the unit. */
                const char *bp = kdob.y > 2025 || (kdob.y == 2025 && kdob.m >= 7) ? unitc : prov;
                json_t *res_json = NULL;
                rc = apply(sd,
                           json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "birth",
                                     "name", name, "dob", kd, "sex", sex_name(ks), "birth_province",
                                     bp, "father", husband, "mother", wife, "date", reg_on),
                           &res_json);
                if (rc < 0)
                        return rc;
                if (rc == 0) {
                        sd->st->persons++;
                        const char *kid = json_string_value(json_object_get(res_json, "pid"));
                        /* Adults get a card; some children from 14 too. */
                        struct pdate at14 = date_add_years(kdob, 14 + rnd(&sd->s, 3));
                        if (kid && pdate_cmp(at14, sd->ctx->today) < 0) {
                                char cd[11];
                                date_str(at14, cd);
                                if ((rc = apply(sd,
                                                json_pack("{s:s, s:s, s:s}", "type", "card.issue",
                                                          "pid", kid, "date", cd),
                                                NULL)) < 0) {
                                        json_decref(res_json);
                                        return rc;
                                }
                        }
                        json_decref(res_json);
                }
                kdob = date_add_days(kdob, 400 + rnd(&sd->s, 1500));
        }
        /* Cards for the parents, issued in the 2021 chip-card campaign. */
        const char *parents[2] = {husband, wife};
        for (int i = 0; i < 2; i++) {
                struct pdate cd = random_date(&sd->s, 2021, 2023);
                date_str(cd, d);
                if ((rc = apply(sd,
                                json_pack("{s:s, s:s, s:s}", "type", "card.issue", "pid",
                                          parents[i], "date", d),
                                NULL)) < 0)
                        return rc;
        }
        /* Some work away from home on temporary residence. */
        if (rnd(&sd->s, 8) == 0) {
                char tc[12];
                snprintf(tc, sizeof tc, "%05d", 26000 + rnd(&sd->s, 900));
                struct pdate from = date_add_days(sd->ctx->today, -rnd(&sd->s, 600));
                char fd[11], ud[11];
                date_str(from, fd);
                date_str(date_add_years(from, 2), ud);
                if ((rc = apply(sd,
                                json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:s, s:s}", "type",
                                          "temporary.register", "pid", husband, "address",
                                          "province", "79", "commune", tc, "line",
                                          "Phòng 12, khu nhà trọ Bình Hưng Hòa", "until", ud,
                                          "date", fd),
                                NULL)) < 0)
                        return rc;
        }
        /* The eldest may have died. */
        if (year_now - hdob.y > 75 && rnd(&sd->s, 3) == 0) {
                struct pdate dd = date_add_days(sd->ctx->today, -rnd(&sd->s, 900));
                date_str(dd, d);
                json_t *ev =
                    json_pack("{s:s, s:s, s:s}", "type", "death", "pid", husband, "date", d);
                if (rnd(&sd->s, 10) != 0)
                        json_object_set_new(ev, "new_head", json_string(wife));
                if ((rc = apply(sd, ev, NULL)) < 0)
                        return rc;
        }
        return 0;
}

int reg_demo_seed(struct reg *r, const struct reg_ctx *ctx, long n, uint64_t seed,
                  struct demo_stats *stats, struct pop_err *err)
{
        memset(stats, 0, sizeof *stats);
        struct seeder sd = {r, ctx, seed * 0x2545F4914F6CDD1DULL + 1, stats, err};
        while (stats->persons < n) {
                int rc = family(&sd);
                if (rc)
                        return rc;
        }
        return 0;
}
