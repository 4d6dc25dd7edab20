/*
 * The synthetic population behind `popid gen` (see gen.h); tables and their sources are in
 * gen_data.c.
 *
 * The model, one household at a time:
 *   - a province of the 63 (weighted by its 2019 population) gives the household's address (in
 *     the current unit that absorbed it, from 1 July 2025), its ethnic mix, religion and naming;
 *   - a household type: a nuclear family (couple and children, sometimes a widowed parent of the
 *     head), three generations (an old couple, a married child with spouse and grandchildren),
 *     a single parent, a person living alone (young, or widowed and old), or siblings;
 *   - ages come from the 2019 census pyramid, corrected as the run goes: each age group and sex
 *     has a weight that a slow feedback loop nudges towards the census share, so relationship
 *     constraints (parents 19-45 years older than children, spouses' ages close) do not skew the
 *     whole; a second loop does the same for the number of children;
 *   - deceased people appear as the dead spouse of a widowed person and as the dead parents of
 *     living people (emitted before their children, with no household, temporary residence or
 *     card, and with no spouse: the survivor's spouse is empty, as after a registered death);
 *   - some old people have a partial date of birth (year only, or year and month), as legacy
 *     records do; young adults may hold a temporary residence elsewhere (at most 2 years); most
 *     citizens from 14 hold a chip card issued when the rules of art. 21 of the Law on Identity
 *     2023 keep it valid today.
 * People are written in an order where parents precede their children (generations are ranked).
 * The household is built in a fixed array and written to a 1 MiB buffer; the buffer goes to the
 * caller's writer whenever it is nearly full. Memory does not grow with the count.
 *
 * Personal ID numbers: birth registered in a province before 1 July 2025 gives the prefix of the
 * legacy province, later the code of the current unit (every unit kept the code of one of the
 * provinces it absorbed, so it is a valid prefix). Each series (province, sex, birth year) counts
 * its people; a balanced Feistel network keyed by the seed maps the count to the six random
 * digits, a bijection of 0..999999, so no number repeats without remembering any.
 *
 * Determinism: one splitmix64 stream seeded from the seed drives every choice; floating point is
 * only IEEE arithmetic (no libm), so the same options give the same bytes on every build.
 */
#include "gen/gen.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/pid.h"
#include "core/region.h"
#include "gen/gen_int.h"

const char gen_csv_header[] =
    "pid,name,dob,sex,birth_province,hometown,ethnicity,religion,nationality,father,mother,"
    "spouse,status,death_date,household,relation,province,commune,address,since,tmp_province,"
    "tmp_commune,tmp_address,tmp_from,tmp_until,card_issued\n";

#define BUF_CAP   (1u << 20)
#define BUF_SLACK (128u << 10) /* more than a household of MAX_MEMBERS can write */

#define MAX_MEMBERS    16
#define NAME_CAP       128
#define LINE_CAP       128
#define SERIES_YEARS   120 /* birth years today-119 .. today */
#define FEISTEL_ROUNDS 6
#define HALF_SPAN      1000u
#define NO_DATE        INT32_MIN

/* Feedback on the age pyramid: every ADJUST_EVERY living people the weights move towards the
 * census shares and the counts behind them decay by a quarter (see observe). */
#define ADJUST_EVERY 4096u

/* Chip cards were first issued in January 2021 (Circular 06/2021/TT-BCA); most citizens got
 * theirs in the campaign that ran to mid-2022. */
#define CHIP_START_Y 2021
#define MASS_END_Y   2022
#define MASS_END_M   6
#define MASS_END_D   30

enum relation {
        REL_HEAD,
        REL_SPOUSE,
        REL_CHILD,
        REL_PARENT,
        REL_SIBLING,
        REL_GRANDCHILD,
        REL_RELATIVE,
        REL_NONE, /* deceased: no household */
};
static const char *const relation_names[] = {"head",    "spouse",     "child",    "parent",
                                             "sibling", "grandchild", "relative", ""};

enum hh_type {
        HH_NUCLEAR,
        HH_THREE_GEN,
        HH_SINGLE_PARENT,
        HH_ALONE_YOUNG,
        HH_ALONE_OLD,
        HH_SIBLINGS
};

/* Household types per mille (approximate: the 2019 census counted 96.2 million people in 26.9
 * million households, 3.6 a household, about a tenth of them one person; three generations
 * under one roof are common). */
static const struct {
        enum hh_type t;
        uint32_t w;
} hh_types[] = {
    {HH_NUCLEAR, 570},    {HH_THREE_GEN, 215}, {HH_SINGLE_PARENT, 85},
    {HH_ALONE_YOUNG, 45}, {HH_ALONE_OLD, 55},  {HH_SIBLINGS, 30},
};

/* Husband's age minus wife's, weighted (approximate). */
static const struct {
        int gap;
        uint32_t w;
} spouse_gaps[] = {
    {-3, 2}, {-2, 3}, {-1, 5}, {0, 8}, {1, 12}, {2, 14}, {3, 13}, {4, 11},
    {5, 9},  {6, 7},  {7, 5},  {8, 4}, {9, 3},  {10, 2}, {12, 1}, {15, 1},
};

/* Where temporary residents go (legacy codes of the big cities and industrial provinces). */
static const struct {
        int code;
        uint32_t w;
} temp_dest[] = {
    {79, 350}, {1, 250}, {74, 80}, {75, 70}, {27, 60}, {48, 50},
    {31, 50},  {92, 30}, {56, 30}, {22, 30}, {19, 20}, {68, 30},
};

struct person {
        char pid[PID_LEN + 1];
        uint8_t name_len;
        char name[NAME_CAP];
        const char *surname; /* the family name children inherit (NULL: none) */
        struct pdate dob;    /* as written: partial for some old people */
        int32_t dob_days;    /* the earliest day the date of birth may stand for */
        int age;
        enum sex sex;
        bool deceased;
        uint8_t rank; /* generation: written in increasing rank, so parents come first */
        uint8_t relation;
        uint8_t ethnic;
        int birth_prov;             /* GSO code (legacy before the merger, current unit after) */
        int hometown;               /* index into gen__provinces */
        int father, mother, spouse; /* member indexes, -1 for none */
        int32_t death_days, since_days, card_days;
        bool has_temp;
        int tmp_prov;
        uint32_t tmp_commune;
        uint8_t tmp_line_len;
        char tmp_line[LINE_CAP];
        int32_t tmp_from, tmp_until;
};

/* Cumulative weights of a list. */
#define CUM_MAX 96
#define N_HOT   6
struct cum {
        const struct gen_wlist *l;
        uint32_t c[CUM_MAX];
};

struct gen {
        uint64_t rng;
        uint64_t fkey[FEISTEL_ROUNDS];
        enum gen_format format;
        int32_t today;
        int today_y;
        int max_age;      /* of the living */
        int max_age_dead; /* birth year from 1900 and within the series table */
        int32_t merger, chip_start, mass_end;
        int32_t age_first[GEN_MAX_AGE + SERIES_YEARS], age_last[GEN_MAX_AGE + SERIES_YEARS];

        uint32_t prov_cum[63], prov_total;
        struct cum hot[N_HOT];
        int8_t prov_index[100]; /* GSO code -> index, -1 */
        uint32_t commune_first[63], commune_n[63];
        int unit_of[63]; /* the code an address there is written with today */
        const char *prov_name[63];
        uint8_t prov_name_len[63];

        /* age pyramid and its feedback */
        double target[2][GEN_N_AGE_GROUPS];
        double weight[2][GEN_N_AGE_GROUPS];
        double seen[2][GEN_N_AGE_GROUPS], seen_total, seen_young;
        double target_young;
        double kid_bias;
        uint32_t since_adjust;

        uint32_t series[63][2][SERIES_YEARS];

        /* the household being built */
        struct person m[MAX_MEMBERS];
        int n, cap;
        int legacy; /* index into gen__provinces */
        int unit;   /* code written in the address */
        uint8_t ethnic;
        int religion; /* -1 none */
        uint32_t commune;
        uint8_t line_len;
        char line[LINE_CAP];
        char key[16];
        int32_t hh_since;

        char *buf;
        size_t len;
        uint64_t emitted, households, deceased, bytes;
        gen_write_fn *write;
        void *ctx;
};

/* ---- randomness ---- */

static inline uint64_t rnd64(struct gen *g)
{
        uint64_t z = (g->rng += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

/* Uniform in [0, n) (n < 2^32; the bias of a 32-bit multiply-shift is below 2^-32 * n). */
static inline uint32_t below(struct gen *g, uint32_t n)
{
        return (uint32_t)(((rnd64(g) >> 32) * (uint64_t)n) >> 32);
}

static inline bool chance(struct gen *g, uint32_t per_mille)
{
        return below(g, 1000) < per_mille;
}

static inline int between(struct gen *g, int lo, int hi)
{
        return hi <= lo ? lo : lo + (int)below(g, (uint32_t)(hi - lo + 1));
}

static inline double unit01(struct gen *g)
{
        return (double)(rnd64(g) >> 11) * (1.0 / 9007199254740992.0);
}

static const char *pick_w(struct gen *g, const struct gen_wlist *l)
{
        /* The Kinh lists, drawn for most people, by binary search over cumulative weights. */
        for (int i = 0; i < N_HOT; i++) {
                const struct cum *c = &g->hot[i];
                if (c->l != l)
                        continue;
                uint32_t r = below(g, c->c[c->l->n - 1]);
                uint32_t lo = 0, hi = c->l->n - 1;
                while (lo < hi) {
                        uint32_t mid = (lo + hi) / 2;
                        if (c->c[mid] > r)
                                hi = mid;
                        else
                                lo = mid + 1;
                }
                return l->v[lo].s;
        }
        uint32_t total = 0;
        for (uint32_t i = 0; i < l->n; i++)
                total += l->v[i].w;
        uint32_t r = below(g, total);
        for (uint32_t i = 0; i < l->n; i++) {
                if (r < l->v[i].w)
                        return l->v[i].s;
                r -= l->v[i].w;
        }
        return l->v[0].s;
}

static const char *pick(struct gen *g, const struct gen_list *l)
{
        return l->v[below(g, l->n)];
}

static int pick_province(struct gen *g)
{
        uint32_t r = below(g, g->prov_total);
        int lo = 0, hi = 62;
        while (lo < hi) {
                int mid = (lo + hi) / 2;
                if (g->prov_cum[mid] > r)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return lo;
}

static int pick_gap(struct gen *g)
{
        uint32_t total = 0;
        for (size_t i = 0; i < sizeof spouse_gaps / sizeof spouse_gaps[0]; i++)
                total += spouse_gaps[i].w;
        uint32_t r = below(g, total);
        for (size_t i = 0; i < sizeof spouse_gaps / sizeof spouse_gaps[0]; i++) {
                if (r < spouse_gaps[i].w)
                        return spouse_gaps[i].gap;
                r -= spouse_gaps[i].w;
        }
        return 2;
}

/* ---- personal ID numbers ---- */

static inline uint64_t mix64(uint64_t z)
{
        z = (z ^ (z >> 33)) * 0xff51afd7ed558ccdULL;
        z = (z ^ (z >> 33)) * 0xc4ceb9fe1a85ec53ULL;
        return z ^ (z >> 33);
}

/* A keyed bijection of 0..999999 for each series: a balanced Feistel network on the two 3-digit
 * halves with addition modulo 1000 (invertible whatever the round function). */
static uint32_t permute(const struct gen *g, uint32_t series, uint32_t x)
{
        uint32_t l = x / HALF_SPAN, r = x % HALF_SPAN;
        for (int i = 0; i < FEISTEL_ROUNDS; i++) {
                uint64_t h = mix64(g->fkey[i] ^ ((uint64_t)series << 20) ^ r);
                uint32_t f = (uint32_t)(((h >> 32) * HALF_SPAN) >> 32);
                uint32_t next = (l + f) % HALF_SPAN;
                l = r;
                r = next;
        }
        return l * HALF_SPAN + r;
}

static const char digits2[] = "00010203040506070809101112131415161718192021222324252627282930313233"
                              "34353637383940414243444546474849505152535455565758596061626364656667"
                              "6869707172737475767778798081828384858687888990919293949596979899";

static inline char *put2(char *p, unsigned v)
{
        memcpy(p, digits2 + 2 * v, 2);
        return p + 2;
}

/*
 * Gives p the next number of its series. A series holds a million numbers; when one is used up
 * (only for counts near GEN_MAX_PEOPLE), the birth is registered in the next province instead.
 */
static int assign_pid(struct gen *g, struct person *p)
{
        int off = g->today_y - p->dob.y;
        int s = p->sex == SEX_FEMALE;
        bool after = p->dob_days >= g->merger;
        int pi = g->prov_index[p->birth_prov];
        for (int tries = 0; tries < 63; tries++, pi = (pi + 1) % 63) {
                int code = gen__provinces[pi].code;
                if (after && !region_unit(code))
                        continue;
                uint32_t *c = &g->series[pi][s][off];
                if (*c >= PID_SUFFIX_SPAN)
                        continue;
                int gdigit = 2 * ((p->dob.y - 1900) / 100) + s;
                int yy = p->dob.y % 100;
                uint32_t suffix = permute(g, (uint32_t)(code * 1000 + gdigit * 100 + yy), (*c)++);
                p->birth_prov = code;
                char *w = p->pid;
                *w++ = '0';
                w = put2(w, (unsigned)code);
                *w++ = (char)('0' + gdigit);
                w = put2(w, (unsigned)yy);
                w = put2(w, suffix / 10000);
                w = put2(w, suffix / 100 % 100);
                w = put2(w, suffix % 100);
                *w = '\0';
                return 0;
        }
        return POP_EFULL;
}

/* ---- dates ---- */

static int32_t days_of(int y, int m, int d)
{
        struct pdate p = {(int16_t)y, (int8_t)m, (int8_t)d};
        return date_to_days(p);
}

/* The day someone born on dob (partial: its earliest day) turns n (29 February: 1 March). */
static int32_t birthday(struct pdate dob, int n)
{
        return date_to_days(date_add_years(pdate_birthday_basis(dob), n));
}

static int32_t uniform_day(struct gen *g, int32_t lo, int32_t hi)
{
        return hi <= lo ? lo : lo + (int32_t)below(g, (uint32_t)(hi - lo + 1));
}

/* ---- the age pyramid ---- */

static int group_of(int age)
{
        int gi = age / 5;
        return gi < GEN_N_AGE_GROUPS ? gi : GEN_N_AGE_GROUPS - 1;
}

/*
 * An age in [lo, hi] for a person of sex *sex (or, when *sex is SEX_UNKNOWN, also a sex), drawn
 * from the census pyramid times the feedback weights. -1 when the window is empty.
 */
static int pick_age(struct gen *g, int lo, int hi, enum sex *sex)
{
        if (lo < 0)
                lo = 0;
        if (hi > g->max_age)
                hi = g->max_age;
        if (lo > hi)
                return -1;
        int g0 = group_of(lo), g1 = group_of(hi);
        int s0 = *sex == SEX_FEMALE ? 1 : 0, s1 = *sex == SEX_MALE ? 0 : 1;
        double w[2 * GEN_N_AGE_GROUPS], total = 0;
        int n = 0;
        for (int gi = g0; gi <= g1; gi++) {
                int a = gi * 5 > lo ? gi * 5 : lo;
                int b = gi == GEN_N_AGE_GROUPS - 1 ? hi : (gi * 5 + 4 < hi ? gi * 5 + 4 : hi);
                for (int s = s0; s <= s1; s++) {
                        w[n] = g->target[s][gi] * g->weight[s][gi] * (b - a + 1);
                        total += w[n++];
                }
        }
        double r = unit01(g) * total;
        int k = 0;
        while (k < n - 1 && r >= w[k]) {
                r -= w[k];
                k++;
        }
        int nsex = s1 - s0 + 1;
        int gi = g0 + k / nsex, s = s0 + k % nsex;
        int a = gi * 5 > lo ? gi * 5 : lo;
        int b = gi == GEN_N_AGE_GROUPS - 1 ? hi : (gi * 5 + 4 < hi ? gi * 5 + 4 : hi);
        *sex = s ? SEX_FEMALE : SEX_MALE;
        return between(g, a, b);
}

/* Counts a living person written, and every ADJUST_EVERY people moves the weights towards the
 * census shares (and the number of children towards the share of minors). */
static void observe(struct gen *g, const struct person *p)
{
        g->seen[p->sex == SEX_FEMALE][group_of(p->age)] += 1;
        g->seen_total += 1;
        if (p->age < 18)
                g->seen_young += 1;
        if (++g->since_adjust < ADJUST_EVERY)
                return;
        g->since_adjust = 0;
        for (int s = 0; s < 2; s++)
                for (int gi = 0; gi < GEN_N_AGE_GROUPS; gi++) {
                        double share = g->seen[s][gi] / g->seen_total;
                        double ratio = (g->target[s][gi] + 1e-6) / (share + 1e-6);
                        double step = 1 + 0.3 * (ratio - 1);
                        step = step < 0.85 ? 0.85 : step > 1.18 ? 1.18 : step;
                        double w = g->weight[s][gi] * step;
                        g->weight[s][gi] = w < 0.02 ? 0.02 : w > 50 ? 50 : w;
                        g->seen[s][gi] *= 0.75;
                }
        double young = g->seen_young / g->seen_total;
        g->kid_bias += 1.5 * (g->target_young - young);
        g->kid_bias = g->kid_bias < -0.9 ? -0.9 : g->kid_bias > 0.9 ? 0.9 : g->kid_bias;
        g->seen_young *= 0.75;
        g->seen_total *= 0.75;
}

/* Children still living with a mother of this age (before the feedback). */
static int base_children(struct gen *g, int mother_age)
{
        static const struct {
                int upto;
                uint32_t p[5]; /* per mille for 0..4 children */
        } table[] = {
            {21, {600, 400, 0, 0, 0}},     {29, {250, 450, 300, 0, 0}},
            {44, {80, 300, 450, 140, 30}}, {54, {250, 400, 280, 70, 0}},
            {64, {650, 300, 50, 0, 0}},    {200, {850, 150, 0, 0, 0}},
        };
        size_t i = 0;
        while (mother_age > table[i].upto)
                i++;
        uint32_t r = below(g, 1000);
        int k = 0;
        while (k < 4 && r >= table[i].p[k]) {
                r -= table[i].p[k];
                k++;
        }
        if (g->kid_bias > 0 && unit01(g) < g->kid_bias)
                k++;
        else if (g->kid_bias < 0 && k > 0 && unit01(g) < -g->kid_bias)
                k--;
        return k;
}

/* ---- building a household ---- */

static int add_person(struct gen *g, int rank, enum sex sex, int age, uint8_t ethnic)
{
        if (g->n >= g->cap)
                return -1;
        int i = g->n++;
        struct person *p = &g->m[i];
        p->sex = sex;
        p->age = age;
        p->rank = (uint8_t)rank;
        p->relation = REL_NONE;
        p->ethnic = ethnic;
        p->deceased = false;
        p->father = p->mother = p->spouse = -1;
        p->surname = NULL;
        p->hometown = -1;
        p->birth_prov = 0;
        p->death_days = p->since_days = p->card_days = NO_DATE;
        p->has_temp = false;
        p->dob_days = uniform_day(g, g->age_first[age], g->age_last[age]);
        p->dob = date_from_days(p->dob_days);
        /* Legacy records of people born before 1960 may hold only a year, or a year and month. */
        if (p->dob.y < 1960) {
                uint32_t r = below(g, 1000);
                if (r < 60) {
                        p->dob.m = 0;
                        p->dob.d = 0;
                } else if (r < 90) {
                        p->dob.d = 0;
                }
                if (r < 90)
                        p->dob_days = date_to_days(pdate_earliest(p->dob));
        }
        return i;
}

static const struct gen_ethnic *eth(uint8_t e)
{
        return &gen__ethnic[e];
}

static const char *family_name(struct gen *g, uint8_t e)
{
        if (e == GEN_KINH)
                return pick_w(g, gen__provinces[g->legacy].code >= 46 ? &gen__surnames_south
                                                                      : &gen__surnames_north);
        const struct gen_ethnic *et = eth(e);
        return et->surnames.n ? pick_w(g, &et->surnames) : NULL;
}

/* A founder: someone whose parents are not in the file. */
static int add_founder(struct gen *g, int rank, enum sex sex, int age, uint8_t ethnic, bool local)
{
        int i = add_person(g, rank, sex, age, ethnic);
        if (i < 0)
                return -1;
        struct person *p = &g->m[i];
        p->surname = family_name(g, ethnic);
        /* Some Kinh families moved from another province; minorities rarely did. */
        p->hometown =
            local || chance(g, ethnic == GEN_KINH ? 700 : 970) ? g->legacy : pick_province(g);
        return i;
}

/* A child of father f and mother m (either may be -1). */
static int add_child(struct gen *g, int rank, enum sex sex, int age, int f, int mo)
{
        const struct person *fp = f >= 0 ? &g->m[f] : NULL, *mp = mo >= 0 ? &g->m[mo] : NULL;
        const struct person *line = fp ? fp : mp;
        uint8_t e = line ? line->ethnic : g->ethnic;
        if (mp && eth(mp->ethnic)->matrilineal)
                line = mp, e = mp->ethnic;
        int i = add_person(g, rank, sex, age, e);
        if (i < 0)
                return -1;
        struct person *p = &g->m[i];
        p->father = f;
        p->mother = mo;
        p->surname = line ? line->surname : family_name(g, e);
        p->hometown = line ? line->hometown : g->legacy;
        return i;
}

static void marry(struct gen *g, int a, int b)
{
        if (a >= 0 && b >= 0 && !g->m[a].deceased && !g->m[b].deceased) {
                g->m[a].spouse = b;
                g->m[b].spouse = a;
        }
}

/* Marks i deceased, on a day from `floor` (and from adulthood) to today. */
static void bury(struct gen *g, int i, int32_t floor)
{
        struct person *p = &g->m[i];
        int32_t lo = p->dob_days + 18 * 365;
        if (lo < floor)
                lo = floor;
        if (lo > g->today)
                lo = g->today;
        p->deceased = true;
        p->death_days = uniform_day(g, lo, g->today);
}

/* The spouse of someone aged `age` of sex `sex`: the age by the usual gap, within the legal
 * minimum ages at marriage (Law on Marriage and Family 2014 art. 8: men 20, women 18). */
static int spouse_age(struct gen *g, enum sex sex, int age)
{
        int gap = pick_gap(g);
        int a = sex == SEX_MALE ? age - gap : age + gap;
        int min = sex == SEX_MALE ? 18 : 20;
        return a < min ? min : a;
}

static int clamp_living(struct gen *g, int age)
{
        return age > g->max_age ? g->max_age : age;
}

/* Children of f and mo living at home: ages so that the mother was 19-45 and the father at least
 * 21 at the birth, and at most `oldest`. */
static void add_children(struct gen *g, int rank, int f, int mo, int oldest, int count)
{
        int lo = 0, hi = oldest;
        if (mo >= 0) {
                int ma = g->m[mo].age;
                lo = ma - 45;
                hi = hi < ma - 19 ? hi : ma - 19;
        }
        if (f >= 0) {
                int fa = g->m[f].age;
                lo = lo > fa - 60 ? lo : fa - 60;
                hi = hi < fa - 21 ? hi : fa - 21;
        }
        for (int k = 0; k < count; k++) {
                enum sex s = SEX_UNKNOWN;
                int age = pick_age(g, lo, hi, &s);
                if (age < 0 || add_child(g, rank, s, age, f, mo) < 0)
                        return;
        }
}

/* The youngest day of birth among the children of i in the household, or NO_DATE. */
static int32_t last_child_born(struct gen *g, int i)
{
        int32_t last = NO_DATE;
        for (int k = 0; k < g->n; k++)
                if ((g->m[k].father == i || g->m[k].mother == i) && g->m[k].dob_days > last)
                        last = g->m[k].dob_days;
        return last;
}

/* A dead parent of child c (of sex `sex`), emitted before c. */
static int add_dead_parent(struct gen *g, int c, enum sex sex)
{
        int ca = g->m[c].age;
        int lo = ca + (sex == SEX_MALE ? 21 : 19), hi = ca + (sex == SEX_MALE ? 50 : 42);
        if (hi > g->max_age_dead)
                hi = g->max_age_dead;
        if (lo > hi)
                return -1;
        int i = add_founder(g, 0, sex, between(g, lo, hi), g->m[c].ethnic, false);
        if (i < 0)
                return -1;
        if (sex == SEX_MALE) {
                g->m[c].father = i;
                /* The child carries the father's family name and hometown. */
                if (!eth(g->m[c].ethnic)->matrilineal) {
                        g->m[i].surname = g->m[c].surname;
                        g->m[i].hometown = g->m[c].hometown;
                }
        } else {
                g->m[c].mother = i;
                if (eth(g->m[c].ethnic)->matrilineal)
                        g->m[i].surname = g->m[c].surname;
        }
        return i;
}

static void bury_parent(struct gen *g, int i)
{
        if (i >= 0)
                bury(g, i, last_child_born(g, i));
}

/* A couple: returns the husband and wife (either may be -1 when the household is full). */
static void add_couple(struct gen *g, int rank, int lo, int hi, int *husband, int *wife)
{
        enum sex s = chance(g, 500) ? SEX_MALE : SEX_FEMALE;
        int age = pick_age(g, s == SEX_MALE ? (lo > 20 ? lo : 20) : (lo > 18 ? lo : 18), hi, &s);
        if (age < 0)
                age = s == SEX_MALE ? 20 : 18;
        int other = clamp_living(g, spouse_age(g, s, age));
        int a = add_founder(g, rank, s, age, g->ethnic, true);
        /* A spouse from another group now and then (mostly Kinh). */
        uint8_t e2 = g->ethnic != GEN_KINH && chance(g, 100) ? GEN_KINH : g->ethnic;
        int b = add_founder(g, rank, s == SEX_MALE ? SEX_FEMALE : SEX_MALE, other, e2, false);
        *husband = s == SEX_MALE ? a : b;
        *wife = s == SEX_MALE ? b : a;
}

static void build_nuclear(struct gen *g)
{
        int h, w;
        add_couple(g, 2, 20, 90, &h, &w);
        int head = h >= 0 && (w < 0 || chance(g, 850)) ? h : w;
        g->m[head].relation = REL_HEAD;
        if (h >= 0 && w >= 0) {
                marry(g, h, w);
                g->m[head == h ? w : h].relation = REL_SPOUSE;
                add_children(g, 3, h, w, 30, base_children(g, g->m[w].age));
        }
        for (int k = 0; k < g->n; k++)
                if (g->m[k].rank == 3)
                        g->m[k].relation = REL_CHILD;
        /* The head's own parents: one widowed parent living with them, or dead parents. */
        uint32_t r = below(g, 1000);
        if (r < 130) {
                enum sex s = SEX_UNKNOWN;
                int ca = g->m[head].age;
                int age = pick_age(g, ca + 21, ca + 42, &s);
                if (age >= 0) {
                        int p = add_person(g, 1, s, age, g->m[head].ethnic);
                        if (p >= 0) {
                                struct person *pp = &g->m[p];
                                pp->relation = REL_PARENT;
                                pp->hometown = g->m[head].hometown;
                                if (s == SEX_MALE)
                                        g->m[head].father = p;
                                else
                                        g->m[head].mother = p;
                                /* The head carries this parent's family name when the line runs
                                 * through them (the father, or the mother for Ê Đê, Gia Rai). */
                                bool line = (s == SEX_MALE) != eth(pp->ethnic)->matrilineal;
                                pp->surname =
                                    line ? g->m[head].surname : family_name(g, pp->ethnic);
                                if (chance(g, 300))
                                        bury_parent(g, add_dead_parent(g, head,
                                                                       s == SEX_MALE ? SEX_FEMALE
                                                                                     : SEX_MALE));
                        }
                }
        } else if (r < 180) {
                int f = add_dead_parent(g, head, SEX_MALE);
                int mo = chance(g, 500) ? add_dead_parent(g, head, SEX_FEMALE) : -1;
                bury_parent(g, f);
                bury_parent(g, mo);
        }
}

static void build_three_gen(struct gen *g)
{
        int h, w;
        add_couple(g, 1, 48, 95, &h, &w);
        if (h < 0 || w < 0) {
                g->m[h >= 0 ? h : w].relation = REL_HEAD;
                return;
        }
        /* The married child (usually a son, living with his parents) and the in-law. */
        enum sex cs = chance(g, 800) ? SEX_MALE : SEX_FEMALE;
        int ha = g->m[h].age, wa = g->m[w].age;
        int lo = cs == SEX_MALE ? 20 : 18;
        lo = lo > wa - 45 ? lo : wa - 45;
        int hi = wa - 19 < ha - 21 ? wa - 19 : ha - 21;
        int age = pick_age(g, lo, hi, &cs);
        int c = age >= 0 ? add_child(g, 2, cs, age, h, w) : -1;
        int in_law = -1;
        if (c >= 0) {
                enum sex ss = cs == SEX_MALE ? SEX_FEMALE : SEX_MALE;
                int sa = clamp_living(g, spouse_age(g, cs, age));
                in_law = add_founder(g, 2, ss, sa, g->ethnic, false);
                marry(g, c, in_law);
        }
        /* One of the old couple may have died. */
        int dead = -1;
        if (chance(g, 300)) {
                dead = chance(g, 700) ? h : w;
        }
        int old_head = dead == h ? w : h;
        bool child_heads = c >= 0 && g->m[old_head].age >= 75 && chance(g, 500);
        int head = child_heads ? c : old_head;
        if (dead < 0)
                marry(g, h, w);
        if (c >= 0 && in_law >= 0) {
                int dad = cs == SEX_MALE ? c : in_law, mom = cs == SEX_MALE ? in_law : c;
                add_children(g, 3, dad, mom, 30, base_children(g, g->m[mom].age));
        }
        if (chance(g, 250))
                add_children(g, 2, h, w, 30, 1);
        if (dead >= 0)
                bury(g, dead, last_child_born(g, dead));
        for (int k = 0; k < g->n; k++) {
                struct person *p = &g->m[k];
                if (p->deceased)
                        continue;
                if (k == head)
                        p->relation = REL_HEAD;
                else if (k == h || k == w)
                        p->relation = child_heads ? REL_PARENT : REL_SPOUSE;
                else if (k == in_law)
                        p->relation = child_heads ? REL_SPOUSE : REL_RELATIVE;
                else if (p->rank == 3)
                        p->relation = child_heads ? REL_CHILD : REL_GRANDCHILD;
                else /* the married child and unmarried siblings */
                        p->relation = child_heads ? REL_SIBLING : REL_CHILD;
        }
}

static void build_single_parent(struct gen *g)
{
        enum sex s = chance(g, 800) ? SEX_FEMALE : SEX_MALE;
        int age = pick_age(g, s == SEX_MALE ? 25 : 23, 65, &s);
        int p = add_founder(g, 2, s, age, g->ethnic, true);
        g->m[p].relation = REL_HEAD;
        /* The other parent died (their spouse field is then empty) or lives elsewhere. */
        int other = -1;
        if (chance(g, 250)) {
                enum sex os = s == SEX_MALE ? SEX_FEMALE : SEX_MALE;
                int oa = spouse_age(g, s, age);
                if (oa > g->max_age_dead)
                        oa = g->max_age_dead;
                other = add_founder(g, 1, os, oa, g->ethnic, false);
        }
        int f = s == SEX_MALE ? p : other, mo = s == SEX_MALE ? other : p;
        int n = base_children(g, s == SEX_FEMALE ? age : age - 3);
        add_children(g, 3, f, mo, 30, n > 0 ? n : 1);
        for (int k = 0; k < g->n; k++)
                if (g->m[k].rank == 3)
                        g->m[k].relation = REL_CHILD;
        if (other >= 0)
                bury(g, other, last_child_born(g, other));
}

static void build_alone(struct gen *g, bool old)
{
        enum sex s = SEX_UNKNOWN;
        int age = old ? pick_age(g, 60, GEN_MAX_AGE, &s) : pick_age(g, 20, 59, &s);
        if (age < 0)
                age = pick_age(g, 20, GEN_MAX_AGE, &s);
        int p = add_founder(g, 2, s, age, g->ethnic, true);
        g->m[p].relation = REL_HEAD;
        if (old && chance(g, 600)) {
                int sa = spouse_age(g, s, age);
                if (sa > g->max_age_dead)
                        sa = g->max_age_dead;
                int d =
                    add_founder(g, 1, s == SEX_MALE ? SEX_FEMALE : SEX_MALE, sa, g->ethnic, false);
                if (d >= 0)
                        bury(g, d, NO_DATE);
        }
}

static void build_siblings(struct gen *g)
{
        enum sex s = SEX_UNKNOWN;
        int age = pick_age(g, 18, 35, &s);
        int p = add_founder(g, 2, s, age, g->ethnic, true);
        g->m[p].relation = REL_HEAD;
        int n = 1 + (int)below(g, 2);
        for (int k = 0; k < n; k++) {
                enum sex ss = SEX_UNKNOWN;
                int a =
                    pick_age(g, age - 10 > 16 ? age - 10 : 16, age + 10 < 35 ? age + 10 : 35, &ss);
                int i = a >= 0 ? add_person(g, 2, ss, a, g->ethnic) : -1;
                if (i < 0)
                        break;
                g->m[i].surname = g->m[p].surname;
                g->m[i].hometown = g->m[p].hometown;
                g->m[i].relation = REL_SIBLING;
        }
}

/* ---- text ---- */

static char *app(char *p, const char *s)
{
        size_t n = strlen(s);
        memcpy(p, s, n);
        return p + n;
}

static char *app_num(char *p, unsigned v)
{
        char t[10];
        int n = 0;
        do {
                t[n++] = (char)('0' + v % 10);
                v /= 10;
        } while (v);
        while (n)
                *p++ = t[--n];
        return p;
}

static void make_name(struct gen *g, struct person *p)
{
        const struct gen_ethnic *e = eth(p->ethnic);
        bool male = p->sex == SEX_MALE;
        const struct gen_list *given = male ? &e->given_m : &e->given_f;
        if (!given->n)
                given = male ? &gen__given_m : &gen__given_f;
        const char *gv = pick(g, given);
        if (!p->surname && e->surnames.n)
                p->surname = pick_w(g, &e->surnames);
        char *w = p->name;
        switch (e->style) {
        case STYLE_EDE:
                w = app(w, male ? "Y " : "H'");
                w = app(w, gv);
                *w++ = ' ';
                w = app(w, p->surname);
                break;
        case STYLE_JRAI:
                w = app(w, p->surname);
                w = app(w, male ? " " : " H'");
                w = app(w, gv);
                break;
        case STYLE_PREFIX:
                w = app(w, male ? e->prefix_m : e->prefix_f);
                w = app(w, gv);
                break;
        case STYLE_VIET: {
                const struct gen_wlist *mid = male ? &e->middle_m : &e->middle_f;
                bool young = p->dob.y >= 1985;
                if (!mid->n)
                        mid = male ? (young ? &gen__middle_m_new : &gen__middle_m_old)
                                   : (young ? &gen__middle_f_new : &gen__middle_f_old);
                const char *m1 = pick_w(g, mid);
                if (p->surname) {
                        w = app(w, p->surname);
                        *w++ = ' ';
                }
                if (*m1) {
                        w = app(w, m1);
                        *w++ = ' ';
                }
                /* Some children of the 2000s carry a second middle name (rarely after Văn, Thị). */
                if (!e->middle_m.n && p->dob.y >= 2000 && strcmp(m1, "Văn") && strcmp(m1, "Thị") &&
                    chance(g, 250)) {
                        const char *m2 = pick(g, male ? &gen__middle2_m : &gen__middle2_f);
                        if (strcmp(m2, m1) && strcmp(m2, gv)) {
                                w = app(w, m2);
                                *w++ = ' ';
                        }
                }
                if (!strcmp(m1, gv))
                        gv = pick(g, given);
                w = app(w, gv);
                break;
        }
        }
        p->name_len = (uint8_t)(w - p->name);
}

static int pick_ethnic(struct gen *g, int legacy)
{
        const struct gen_province *pr = &gen__provinces[legacy];
        if (chance(g, pr->kinh_permille))
                return GEN_KINH;
        const struct gen_mix_list *mx = &gen__mixes[pr->mix];
        uint32_t total = 0;
        for (uint32_t i = 0; i < mx->n; i++)
                total += mx->v[i].w;
        uint32_t r = below(g, total);
        for (uint32_t i = 0; i < mx->n; i++) {
                if (r < mx->v[i].w)
                        return (int)mx->v[i].ethnic;
                r -= mx->v[i].w;
        }
        return GEN_KINH;
}

/* A street address or a hamlet, the way each part of the country writes them. */
static uint8_t make_line(struct gen *g, int legacy, bool minority, char *out)
{
        const struct gen_province *pr = &gen__provinces[legacy];
        bool city =
            pr->code == 1 || pr->code == 31 || pr->code == 48 || pr->code == 79 || pr->code == 92;
        bool south = pr->code >= 46;
        char *w = out;
        if (chance(g, city ? 750 : 300)) {
                const char *street = pick(g, &gen__streets);
                unsigned n = 1 + below(g, 400);
                switch (below(g, 5)) {
                case 0:
                        w = app(w, "Số ");
                        w = app_num(w, n);
                        *w++ = ' ';
                        w = app(w, street);
                        break;
                case 1:
                        if (south) {
                                w = app_num(w, n);
                                *w++ = '/';
                                w = app_num(w, 1 + below(g, 60));
                                *w++ = ' ';
                        } else {
                                w = app(w, "Số ");
                                w = app_num(w, 1 + below(g, 80));
                                w = app(w, ", ngõ ");
                                w = app_num(w, n);
                                w = app(w, ", ");
                        }
                        w = app(w, street);
                        break;
                case 2:
                        w = app_num(w, n);
                        *w++ = ' ';
                        w = app(w, street);
                        w = app(w, ", tổ ");
                        w = app_num(w, 1 + below(g, 40));
                        break;
                case 3:
                        w = app(w, "Căn hộ ");
                        w = app_num(w, 1 + below(g, 30));
                        w = put2(w, 1 + below(g, 20));
                        w = app(w, ", tòa ");
                        *w++ = (char)('A' + below(g, 8));
                        w = app(w, ", ");
                        w = app_num(w, n);
                        *w++ = ' ';
                        w = app(w, street);
                        break;
                default:
                        w = app(w, "Số ");
                        w = app_num(w, n);
                        w = app(w, ", đường ");
                        w = app(w, street);
                        break;
                }
        } else if (pr->region == GEN_CH && minority) {
                w = app(w, chance(g, 500) ? "Buôn " : "Làng ");
                w = app(w, pick(g, &gen__hamlets));
        } else if (pr->region == GEN_NMM && minority) {
                w = app(w, "Bản ");
                w = app(w, pick(g, &gen__hamlets));
        } else if (south) {
                if (chance(g, 300)) {
                        w = app(w, "Tổ ");
                        w = app_num(w, 1 + below(g, 30));
                        w = app(w, ", ấp ");
                } else {
                        w = app(w, "Ấp ");
                }
                if (chance(g, 300))
                        w = app_num(w, 1 + below(g, 12));
                else
                        w = app(w, pick(g, &gen__hamlets));
        } else {
                if (chance(g, 300)) {
                        w = app(w, "Xóm ");
                        w = app_num(w, 1 + below(g, 20));
                        w = app(w, ", thôn ");
                } else {
                        w = app(w, "Thôn ");
                }
                if (chance(g, 300))
                        w = app_num(w, 1 + below(g, 15));
                else
                        w = app(w, pick(g, &gen__hamlets));
        }
        return (uint8_t)(w - out);
}

static uint32_t pick_commune(struct gen *g, int legacy)
{
        return g->commune_first[legacy] + below(g, g->commune_n[legacy]);
}

/* ---- residence and cards ---- */

static void add_temporary(struct gen *g, struct person *p)
{
        uint32_t total = 0;
        for (size_t i = 0; i < sizeof temp_dest / sizeof temp_dest[0]; i++)
                total += temp_dest[i].w;
        uint32_t r = below(g, total);
        size_t k = 0;
        while (r >= temp_dest[k].w) {
                r -= temp_dest[k].w;
                k++;
        }
        int li = g->prov_index[temp_dest[k].code];
        int code = g->unit_of[li];
        if (code == g->unit)
                return; /* a move within the province is not this kind of registration */
        /* Law on Residence 2020 art. 27(3): registered for at most 2 years; still running today. */
        static const int32_t spans[] = {182, 365, 730};
        int32_t span = spans[below(g, 3)];
        p->has_temp = true;
        p->tmp_prov = code;
        p->tmp_commune = pick_commune(g, li);
        p->tmp_line_len = make_line(g, li, false, p->tmp_line);
        p->tmp_from = g->today - (int32_t)below(g, (uint32_t)span);
        if (p->tmp_from < p->dob_days + 15 * 365)
                p->tmp_from = p->dob_days + 15 * 365;
        p->tmp_until = p->tmp_from + span;
}

/*
 * A card valid today (Law on Identity 2023 art. 21): issued from the 14th birthday and from the
 * start of the grace period (2 years) before the last renewal age already reached, so it expires
 * at a renewal age still to come, or never when issued from 58.
 */
static void add_card(struct gen *g, struct person *p)
{
        static const int renewal[] = {14, 25, 40, 60};
        int32_t lo = birthday(p->dob, 14);
        if (lo > g->today)
                return;
        for (int k = 3; k >= 1; k--) {
                if (birthday(p->dob, renewal[k]) <= g->today) {
                        int32_t grace = birthday(p->dob, renewal[k] - 2);
                        lo = grace > lo ? grace : lo;
                        break;
                }
        }
        if (lo < g->chip_start)
                lo = g->chip_start;
        if (lo > g->today)
                return;
        if (lo <= g->mass_end && chance(g, 650))
                p->card_days = uniform_day(g, lo, g->mass_end < g->today ? g->mass_end : g->today);
        else
                p->card_days = uniform_day(g, lo, g->today);
}

/* Birth registration, names, numbers, residence dates, temporary residence and cards. */
static int finish_household(struct gen *g)
{
        for (int i = 0; i < g->n; i++) {
                struct person *p = &g->m[i];
                if (p->hometown < 0)
                        p->hometown = g->legacy;
                if (p->dob_days >= g->merger)
                        p->birth_prov = g->unit;
                else if (chance(g, p->ethnic != GEN_KINH ? 970 : p->rank >= 3 ? 900 : 700))
                        p->birth_prov = gen__provinces[g->legacy].code;
                else
                        p->birth_prov = gen__provinces[pick_province(g)].code;
                make_name(g, p);
                int rc = assign_pid(g, p);
                if (rc)
                        return rc;
                if (p->deceased) {
                        g->deceased++;
                        continue;
                }
                p->since_days = g->hh_since > p->dob_days ? g->hh_since : p->dob_days;
                if (p->relation == REL_SPOUSE || p->relation == REL_RELATIVE) {
                        int32_t adult = p->dob_days + 18 * 365;
                        if (p->since_days < adult)
                                p->since_days = adult < g->today ? adult : g->today;
                }
                if (p->age >= 16 && p->age < 60 && chance(g, p->age >= 18 && p->age < 36 ? 90 : 20))
                        add_temporary(g, p);
                if (p->age >= 14 && chance(g, p->age >= 80 ? 750 : 920))
                        add_card(g, p);
        }
        return 0;
}

static int build_household(struct gen *g, int cap)
{
        g->n = 0;
        g->cap = cap;
        g->legacy = pick_province(g);
        g->unit = g->unit_of[g->legacy];
        g->ethnic = (uint8_t)pick_ethnic(g, g->legacy);
        g->religion = -1;
        const uint32_t *rel = gen__religion_permille[gen__provinces[g->legacy].region];
        uint32_t r = below(g, 1000);
        for (int k = 0; k < GEN_N_RELIGIONS; k++) {
                if (r < rel[k]) {
                        g->religion = k;
                        break;
                }
                r -= rel[k];
        }
        g->commune = pick_commune(g, g->legacy);
        g->line_len = make_line(g, g->legacy, g->ethnic != GEN_KINH, g->line);
        g->households++;

        uint32_t t = below(g, 1000);
        size_t k = 0;
        while (k < sizeof hh_types / sizeof hh_types[0] - 1 && t >= hh_types[k].w) {
                t -= hh_types[k].w;
                k++;
        }
        switch (hh_types[k].t) {
        case HH_NUCLEAR:
                build_nuclear(g);
                break;
        case HH_THREE_GEN:
                build_three_gen(g);
                break;
        case HH_SINGLE_PARENT:
                build_single_parent(g);
                break;
        case HH_ALONE_YOUNG:
                build_alone(g, false);
                break;
        case HH_ALONE_OLD:
                build_alone(g, true);
                break;
        case HH_SIBLINGS:
                build_siblings(g);
                break;
        }
        /* The household has lived there since some day after its head came of age. */
        int head = 0;
        while (g->m[head].relation != REL_HEAD)
                head++;
        int32_t first = g->m[head].dob_days + 18 * 365;
        if (first < g->today - 40 * 365)
                first = g->today - 40 * 365;
        g->hh_since = uniform_day(g, first < g->today ? first : g->today, g->today);
        return finish_household(g);
}

/* ---- output ---- */

#define PUT(p, lit) (memcpy(p, lit, sizeof lit - 1), p += sizeof lit - 1)

static char *put_date(char *p, int32_t days)
{
        struct pdate d = date_from_days(days);
        p = put2(p, (unsigned)d.y / 100);
        p = put2(p, (unsigned)d.y % 100);
        *p++ = '-';
        p = put2(p, (unsigned)d.m);
        *p++ = '-';
        return put2(p, (unsigned)d.d);
}

static char *put_pdate(char *p, struct pdate d)
{
        p = put2(p, (unsigned)d.y / 100);
        p = put2(p, (unsigned)d.y % 100);
        if (d.m) {
                *p++ = '-';
                p = put2(p, (unsigned)d.m);
                if (d.d) {
                        *p++ = '-';
                        p = put2(p, (unsigned)d.d);
                }
        }
        return p;
}

/* A JSON string body: quotes, backslashes and control characters escaped (RFC 8259 sec. 7). */
static char *put_json(char *p, const char *s, size_t n)
{
        size_t i = 0;
        while (i < n && (unsigned char)s[i] >= 0x20 && s[i] != '"' && s[i] != '\\')
                i++;
        memcpy(p, s, i);
        p += i;
        for (; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c == '"' || c == '\\') {
                        *p++ = '\\';
                        *p++ = (char)c;
                } else if (c < 0x20) {
                        static const char hex[] = "0123456789abcdef";
                        memcpy(p, "\\u00", 4);
                        p[4] = hex[c >> 4];
                        p[5] = hex[c & 15];
                        p += 6;
                } else {
                        *p++ = (char)c;
                }
        }
        return p;
}

/* A CSV field (RFC 4180 sec. 2): quoted when it holds a comma, quote or line break, with quotes
 * doubled. */
static char *put_csv(char *p, const char *s, size_t n)
{
        size_t i = 0;
        while (i < n && s[i] != ',' && s[i] != '"' && s[i] != '\n' && s[i] != '\r')
                i++;
        if (i == n) {
                memcpy(p, s, n);
                return p + n;
        }
        *p++ = '"';
        for (i = 0; i < n; i++) {
                if (s[i] == '"')
                        *p++ = '"';
                *p++ = s[i];
        }
        *p++ = '"';
        return p;
}

static char *put_code5(char *p, uint32_t v)
{
        *p++ = (char)('0' + v / 10000);
        p = put2(p, v / 100 % 100);
        return put2(p, v % 100);
}

static char *emit_jsonl(struct gen *g, char *p, const struct person *x)
{
        PUT(p, "{\"pid\":\"");
        memcpy(p, x->pid, PID_LEN);
        p += PID_LEN;
        PUT(p, "\",\"name\":\"");
        p = put_json(p, x->name, x->name_len);
        PUT(p, "\",\"dob\":\"");
        p = put_pdate(p, x->dob);
        if (x->sex == SEX_MALE)
                PUT(p, "\",\"sex\":\"male\",\"birth_province\":\"");
        else
                PUT(p, "\",\"sex\":\"female\",\"birth_province\":\"");
        p = put2(p, (unsigned)x->birth_prov);
        PUT(p, "\",\"hometown\":\"");
        p = put_json(p, g->prov_name[x->hometown], g->prov_name_len[x->hometown]);
        PUT(p, "\",\"ethnicity\":\"");
        const char *en = eth(x->ethnic)->name;
        p = put_json(p, en, strlen(en));
        if (g->religion >= 0) {
                PUT(p, "\",\"religion\":\"");
                const char *rn = gen__religions[g->religion];
                p = put_json(p, rn, strlen(rn));
        }
        PUT(p, "\",\"nationality\":\"VNM\"");
        if (x->father >= 0) {
                PUT(p, ",\"father\":\"");
                memcpy(p, g->m[x->father].pid, PID_LEN);
                p += PID_LEN;
                *p++ = '"';
        }
        if (x->mother >= 0) {
                PUT(p, ",\"mother\":\"");
                memcpy(p, g->m[x->mother].pid, PID_LEN);
                p += PID_LEN;
                *p++ = '"';
        }
        if (x->spouse >= 0) {
                PUT(p, ",\"spouse\":\"");
                memcpy(p, g->m[x->spouse].pid, PID_LEN);
                p += PID_LEN;
                *p++ = '"';
        }
        if (x->deceased) {
                PUT(p, ",\"status\":\"deceased\",\"death_date\":\"");
                p = put_date(p, x->death_days);
                PUT(p, "\"}\n");
                return p;
        }
        PUT(p, ",\"status\":\"living\",\"household\":\"");
        memcpy(p, g->key, 11);
        p += 11;
        PUT(p, "\",\"relation\":\"");
        p = app(p, relation_names[x->relation]);
        PUT(p, "\",\"address\":{\"province\":\"");
        p = put2(p, (unsigned)g->unit);
        PUT(p, "\",\"commune\":\"");
        p = put_code5(p, g->commune);
        PUT(p, "\",\"line\":\"");
        p = put_json(p, g->line, g->line_len);
        PUT(p, "\"},\"since\":\"");
        p = put_date(p, x->since_days);
        *p++ = '"';
        if (x->has_temp) {
                PUT(p, ",\"temporary\":{\"province\":\"");
                p = put2(p, (unsigned)x->tmp_prov);
                PUT(p, "\",\"commune\":\"");
                p = put_code5(p, x->tmp_commune);
                PUT(p, "\",\"line\":\"");
                p = put_json(p, x->tmp_line, x->tmp_line_len);
                PUT(p, "\",\"from\":\"");
                p = put_date(p, x->tmp_from);
                PUT(p, "\",\"until\":\"");
                p = put_date(p, x->tmp_until);
                PUT(p, "\"}");
        }
        if (x->card_days != NO_DATE) {
                PUT(p, ",\"card_issued\":\"");
                p = put_date(p, x->card_days);
                *p++ = '"';
        }
        PUT(p, "}\n");
        return p;
}

static char *emit_csv(struct gen *g, char *p, const struct person *x)
{
        memcpy(p, x->pid, PID_LEN);
        p += PID_LEN;
        *p++ = ',';
        p = put_csv(p, x->name, x->name_len);
        *p++ = ',';
        p = put_pdate(p, x->dob);
        if (x->sex == SEX_MALE)
                PUT(p, ",male,");
        else
                PUT(p, ",female,");
        p = put2(p, (unsigned)x->birth_prov);
        *p++ = ',';
        p = put_csv(p, g->prov_name[x->hometown], g->prov_name_len[x->hometown]);
        *p++ = ',';
        const char *en = eth(x->ethnic)->name;
        p = put_csv(p, en, strlen(en));
        *p++ = ',';
        if (g->religion >= 0) {
                const char *rn = gen__religions[g->religion];
                p = put_csv(p, rn, strlen(rn));
        }
        PUT(p, ",VNM,");
        if (x->father >= 0) {
                memcpy(p, g->m[x->father].pid, PID_LEN);
                p += PID_LEN;
        }
        *p++ = ',';
        if (x->mother >= 0) {
                memcpy(p, g->m[x->mother].pid, PID_LEN);
                p += PID_LEN;
        }
        *p++ = ',';
        if (x->spouse >= 0) {
                memcpy(p, g->m[x->spouse].pid, PID_LEN);
                p += PID_LEN;
        }
        if (x->deceased) {
                PUT(p, ",deceased,");
                p = put_date(p, x->death_days);
                /* household .. card_issued: 12 empty cells */
                PUT(p, ",,,,,,,,,,,,\n");
                return p;
        }
        PUT(p, ",living,,");
        memcpy(p, g->key, 11);
        p += 11;
        *p++ = ',';
        p = app(p, relation_names[x->relation]);
        *p++ = ',';
        p = put2(p, (unsigned)g->unit);
        *p++ = ',';
        p = put_code5(p, g->commune);
        *p++ = ',';
        p = put_csv(p, g->line, g->line_len);
        *p++ = ',';
        p = put_date(p, x->since_days);
        *p++ = ',';
        if (x->has_temp) {
                p = put2(p, (unsigned)x->tmp_prov);
                *p++ = ',';
                p = put_code5(p, x->tmp_commune);
                *p++ = ',';
                p = put_csv(p, x->tmp_line, x->tmp_line_len);
                *p++ = ',';
                p = put_date(p, x->tmp_from);
                *p++ = ',';
                p = put_date(p, x->tmp_until);
                *p++ = ',';
        } else {
                PUT(p, ",,,,,");
        }
        if (x->card_days != NO_DATE)
                p = put_date(p, x->card_days);
        *p++ = '\n';
        return p;
}

static int flush(struct gen *g)
{
        if (!g->len)
                return 0;
        int rc = g->write(g->ctx, g->buf, g->len);
        g->bytes += g->len;
        g->len = 0;
        return rc;
}

/* Writes the household, lowest rank (oldest generation) first. */
static void emit_household(struct gen *g)
{
        char *p = g->buf + g->len;
        uint64_t hh = g->households;
        g->key[0] = 'H';
        for (int i = 10; i >= 1; i--) {
                g->key[i] = (char)('0' + hh % 10);
                hh /= 10;
        }
        g->key[11] = '\0';
        for (int rank = 0; rank <= 4; rank++)
                for (int i = 0; i < g->n; i++) {
                        const struct person *x = &g->m[i];
                        if (x->rank != rank)
                                continue;
                        p = g->format == GEN_CSV ? emit_csv(g, p, x) : emit_jsonl(g, p, x);
                        if (!x->deceased)
                                observe(g, x);
                }
        g->len = (size_t)(p - g->buf);
        g->emitted += (uint64_t)g->n;
}

/* ---- setup ---- */

static int setup(struct gen *g, const struct gen_opts *o, struct pop_err *err)
{
        struct pdate today = o->today;
        if (pdate_is_none(today))
                today =
                    (struct pdate){GEN_DEFAULT_TODAY_Y, GEN_DEFAULT_TODAY_M, GEN_DEFAULT_TODAY_D};
        if (!pdate_is_full(today) || !date_valid(today.y, today.m, today.d) ||
            today.y < GEN_TODAY_MIN_YEAR || today.y > GEN_TODAY_MAX_YEAR)
                return pop_fail(err, POP_EINVAL, "gen-today",
                                "the date ages are counted to must be a full date in %d..%d",
                                GEN_TODAY_MIN_YEAR, GEN_TODAY_MAX_YEAR);
        if (o->people > GEN_MAX_PEOPLE)
                return pop_fail(err, POP_EINVAL, "gen-people", "at most %llu people",
                                (unsigned long long)GEN_MAX_PEOPLE);
        if (o->format != GEN_JSONL && o->format != GEN_CSV)
                return pop_fail(err, POP_EINVAL, "gen-format", "unknown format");

        g->format = o->format;
        g->today = date_to_days(today);
        g->today_y = today.y;
        g->max_age = today.y - 1900 < GEN_MAX_AGE ? today.y - 1900 : GEN_MAX_AGE;
        g->max_age_dead = today.y - 1901 < SERIES_YEARS - 2 ? today.y - 1901 : SERIES_YEARS - 2;
        g->merger = days_of(REGION_MERGER_YEAR, REGION_MERGER_MONTH, REGION_MERGER_DAY);
        g->chip_start = days_of(CHIP_START_Y, 1, 1);
        g->mass_end = days_of(MASS_END_Y, MASS_END_M, MASS_END_D);
        /* Born on a day from (today - (a+1) years, today - a years] is a years old today. */
        for (int a = 0; a < GEN_MAX_AGE + SERIES_YEARS; a++) {
                if (today.y - a - 1 < DATE_MIN_YEAR)
                        break;
                g->age_last[a] = date_to_days(date_add_years(today, -a));
                g->age_first[a] = date_to_days(date_add_years(today, -a - 1)) + 1;
                if (today.y - a - 1 < 1900) /* the first day of 1900 at the earliest */
                        g->age_first[a] = g->age_first[a] < days_of(1900, 1, 1)
                                              ? days_of(1900, 1, 1)
                                              : g->age_first[a];
        }

        /* The seed: the stream, and the keys of the permutation. */
        g->rng = o->seed ^ 0x706f706964u;
        for (int i = 0; i < FEISTEL_ROUNDS; i++)
                g->fkey[i] = rnd64(g);
        g->rng = mix64(o->seed + 0x9e3779b97f4a7c15ULL);

        memset(g->prov_index, -1, sizeof g->prov_index);
        uint32_t cum = 0;
        for (int i = 0; i < 63; i++) {
                const struct gen_province *pr = &gen__provinces[i];
                const struct region_legacy *l = region_legacy(pr->code);
                if (!l)
                        return pop_fail(err, POP_EINVAL, "gen-table", "province %02d unknown",
                                        pr->code);
                g->prov_index[pr->code] = (int8_t)i;
                /* From 1 July 2025 an address is written with the code of the unit that absorbed
                 * the province (Resolution 202/2025/QH15). */
                g->unit_of[i] = g->today >= g->merger ? l->unit_code : pr->code;
                g->prov_name[i] = l->name;
                g->prov_name_len[i] = (uint8_t)strlen(l->name);
                cum += pr->pop / 16;
                g->prov_cum[i] = cum;
        }
        g->prov_total = cum;
        const struct gen_wlist *hot[N_HOT] = {&gen__surnames_north, &gen__surnames_south,
                                              &gen__middle_m_old,   &gen__middle_m_new,
                                              &gen__middle_f_old,   &gen__middle_f_new};
        for (int i = 0; i < N_HOT; i++) {
                if (hot[i]->n > CUM_MAX)
                        return pop_fail(err, POP_EINVAL, "gen-table", "a name list is too long");
                g->hot[i].l = hot[i];
                uint32_t c = 0;
                for (uint32_t k = 0; k < hot[i]->n; k++)
                        g->hot[i].c[k] = c += hot[i]->v[k].w;
        }
        /* Commune codes: no list is shipped (region.h), so each province gets a block of the
         * 5-digit codes 00001..32248 in GSO order, sized by population: plausible, not real, codes.
         */
        uint64_t acc = 0, total = 0;
        for (int i = 0; i < 63; i++)
                total += gen__provinces[i].pop;
        for (int i = 0; i < 63; i++) {
                uint32_t first = 1 + (uint32_t)(acc * 32247 / total);
                acc += gen__provinces[i].pop;
                uint32_t next = 1 + (uint32_t)(acc * 32247 / total);
                g->commune_first[i] = first;
                g->commune_n[i] = next > first ? next - first : 1;
        }

        for (int gi = 0; gi < GEN_N_AGE_GROUPS; gi++) {
                double share = gen__age_groups[gi].per_100k / 100000.0;
                double sr = gen__age_groups[gi].sex_ratio;
                g->target[0][gi] = share * sr / (100 + sr);
                g->target[1][gi] = share * 100 / (100 + sr);
                g->weight[0][gi] = g->weight[1][gi] = 1;
                if (gi < 3)
                        g->target_young += share;
                else if (gi == 3)
                        g->target_young += share * 3 / 5;
        }
        return 0;
}

int gen_run(const struct gen_opts *opts, gen_write_fn *write, void *ctx, struct gen_stats *stats,
            struct pop_err *err)
{
        int rc;
        struct gen *g = calloc(1, sizeof *g);
        char *buf = malloc(BUF_CAP);
        if (stats)
                memset(stats, 0, sizeof *stats);
        if (!g || !buf) {
                rc = pop_fail(err, POP_ENOMEM, "gen-memory", "out of memory");
                goto out;
        }
        g->buf = buf;
        g->write = write;
        g->ctx = ctx;
        if ((rc = setup(g, opts, err)))
                goto out;
        if (g->format == GEN_CSV) {
                memcpy(g->buf, gen_csv_header, sizeof gen_csv_header - 1);
                g->len = sizeof gen_csv_header - 1;
        }
        while (g->emitted < opts->people) {
                uint64_t left = opts->people - g->emitted;
                if ((rc = build_household(g, left < MAX_MEMBERS ? (int)left : MAX_MEMBERS))) {
                        pop_fail(err, rc, "pid-series-full",
                                 "the personal ID numbers of a birth year ran out");
                        goto out;
                }
                emit_household(g);
                if (g->len > BUF_CAP - BUF_SLACK && (rc = flush(g)))
                        goto out;
        }
        if ((rc = flush(g)))
                goto out;
        if (stats) {
                stats->people = g->emitted;
                stats->households = g->households;
                stats->deceased = g->deceased;
                stats->bytes = g->bytes;
        }
out:
        if (rc && err && !err->msg[0])
                pop_fail(err, rc, "gen-write", "writing the output failed (%s)", pop_strerror(rc));
        free(buf);
        free(g);
        return rc;
}
