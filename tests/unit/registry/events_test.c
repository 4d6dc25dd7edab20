/*
 * Unit tests of src/registry/events.c through reg_event_apply and the read calls only.
 *
 * Every rule id of docs/EVENTS.md (and every other refusal events.c names) has a test that builds
 * the least state it needs through events, submits an event breaking exactly that rule, and
 * checks the return code, the rule id, and that nothing changed (rt_refuse compares a snapshot of
 * everything the read calls show before and after). Each of the 17 event types has a test of the
 * state it leaves: ID allocation at birth, card expiry (Law on Identity 2023 art. 21), the 2-year
 * temporary residence (Law on Residence 2020 art. 27), one head per household, and who lived in a
 * household on a date. The registry's today is fixed (regtest.h), so the tests are deterministic.
 */
#include "regtest.h"

#include "core/pid.h"

/* People used across tests: IDs consistent with their birth year and sex (PPP G YY RRRRRR). */
#define DAD  "001080000001" /* Trần Văn Nam, male, 1980-03-02 */
#define MUM  "001182000002" /* Lê Thị Mai, female, 1982-05-10 */
#define HUNG "001090000003" /* Phạm Văn Hùng, male, 1990-07-15 */
#define LAN  "001195000004" /* Nguyễn Thị Lan, female, 1995-09-20 */

/* Addresses: Hà Nội (two communes), Đà Nẵng, Hồ Chí Minh City; all current units. */
#define ADDR_HN  "{'province':'01','commune':'00004','line':'12 Phố Huế'}"
#define ADDR_HN2 "{'province':'01','commune':'00007','line':'5 Hàng Bài'}"
#define ADDR_DN  "{'province':'48','commune':'20194','line':'1 Bạch Đằng'}"
#define ADDR_HCM "{'province':'79','commune':'26734','line':'Phòng 3, 5 Lê Lợi'}"

static int setup(void **state)
{
        struct rt *t = calloc(1, sizeof *t);
        if (!t)
                return -1;
        tu_tmpdir();
        rt_create(t, "registry.db", "sqlite:");
        *state = t;
        return 0;
}

static int teardown(void **state)
{
        struct rt *t = *state;
        rt_close(t);
        free(t);
        return 0;
}

static int64_t household_of(json_t *result)
{
        json_int_t hh = json_integer_value(json_object_get(result, "household"));
        assert_true(hh > 0);
        return hh;
}

/* DAD founds a household in Hà Nội, MUM joins it as his spouse, they marry. Returns it. */
static int64_t couple(struct rt *t)
{
        json_t *res = rt_ok(t, "{'type':'enrol','pid':'" DAD "','name':'Trần Văn Nam',"
                               "'dob':'1980-03-02','sex':'male','ethnicity':'Kinh',"
                               "'hometown':'Nam Định','address':" ADDR_HN ",'date':'2020-01-01'}");
        int64_t hh = household_of(res);
        json_decref(res);
        rt_do(t,
              "{'type':'enrol','pid':'" MUM "','name':'Lê Thị Mai','dob':'1982-05-10',"
              "'sex':'female','ethnicity':'Kinh','hometown':'Hà Nội','household':%lld,"
              "'relation':'spouse','date':'2020-01-01'}",
              (long long)hh);
        rt_do(t, "{'type':'marriage','a':'" DAD "','b':'" MUM "','date':'2020-05-01'}");
        return hh;
}

/* Enrols someone with no residence. */
static void enrol(struct rt *t, const char *pid, const char *name, const char *dob, const char *sex)
{
        rt_do(t, "{'type':'enrol','pid':'%s','name':'%s','dob':'%s','sex':'%s'}", pid, name, dob,
              sex);
}

/* Enrols someone founding a household at addr; returns the household. */
static int64_t enrol_at(struct rt *t, const char *pid, const char *name, const char *dob,
                        const char *sex, const char *addr)
{
        json_t *res = rt_ok(t,
                            "{'type':'enrol','pid':'%s','name':'%s','dob':'%s','sex':'%s',"
                            "'address':%s,'date':'2021-01-01'}",
                            pid, name, dob, sex, addr);
        int64_t hh = household_of(res);
        json_decref(res);
        return hh;
}

/* The child DAD and MUM had in 2021, living with them; its ID into out. */
static void first_child(struct rt *t, char out[PID_LEN + 1])
{
        json_t *res = rt_ok(t, "{'type':'birth','name':'Trần Minh Khoa','dob':'2021-06-01',"
                               "'sex':'male','birth_province':'01','father':'" DAD "',"
                               "'mother':'" MUM "','date':'2021-06-10'}");
        snprintf(out, PID_LEN + 1, "%s", rt_str(res, "pid", NULL));
        json_decref(res);
}

static void assert_members(json_t *hh, int n, const char *const *pids)
{
        json_t *m = json_object_get(hh, "members");
        if ((int)json_array_size(m) != n) {
                char *s = json_dumps(hh, JSON_INDENT(1));
                print_error("expected %d members: %s\n", n, s);
                free(s);
        }
        assert_int_equal(json_array_size(m), n);
        for (int i = 0; i < n; i++)
                assert_string_equal(rt_str(json_array_get(m, i), "pid", NULL), pids[i]);
}

/* ================================================================================== */
/* Positive tests: one per event type, checking the state it leaves.                  */
/* ================================================================================== */

static void test_enrol(void **state)
{
        struct rt *t = *state;
        /* Names are normalized (spaces collapsed, NFC); a partial date of birth is kept. */
        json_t *res = rt_ok(t, "{'type':'enrol','pid':'" DAD "','name':'  Trần  Văn Nam ',"
                               "'dob':'1980-03-02','sex':'male','ethnicity':'Kinh',"
                               "'address':" ADDR_HN ",'date':'2020-01-01'}");
        assert_string_equal(rt_str(res, "type", NULL), "enrol");
        assert_string_equal(rt_str(res, "pid", NULL), DAD);
        assert_int_equal(json_integer_value(json_object_get(res, "seq")), 1);
        int64_t hh = household_of(res);
        json_decref(res);
        rt_do(t,
              "{'type':'enrol','pid':'" MUM "','name':'Lê Thị Mai','dob':'1982','sex':'female',"
              "'household':%lld,'relation':'spouse','date':'2020-01-01',"
              "'legal_basis':'Decision 12/QĐ of the commune'}",
              (long long)hh);

        json_t *p = rt_person(t, DAD);
        assert_string_equal(rt_str(p, "full_name", NULL), "Trần Văn Nam");
        assert_string_equal(rt_str(p, "dob", NULL), "1980-03-02");
        assert_string_equal(rt_str(p, "sex", NULL), "male");
        assert_string_equal(rt_str(p, "nationality", NULL), "VNM");
        assert_string_equal(rt_str(p, "status", NULL), "living");
        assert_string_equal(rt_str(p, "birth_province", "code", NULL), "01"); /* from the ID */
        assert_string_equal(rt_str(p, "residence", "permanent", "relation", NULL), "head");
        assert_string_equal(rt_str(p, "residence", "permanent", "valid_from", NULL), "2020-01-01");
        assert_string_equal(rt_str(p, "residence", "permanent", "address", "line", NULL),
                            "12 Phố Huế");
        assert_int_equal(json_integer_value(rt_get(p, "residence", "permanent", "household", NULL)),
                         hh);
        assert_true(json_is_null(rt_get(p, "residence", "temporary", NULL)));
        assert_int_equal(json_array_size(json_object_get(p, "cards")), 0);
        json_decref(p);

        p = rt_person(t, MUM);
        assert_string_equal(rt_str(p, "dob", NULL), "1982");
        assert_string_equal(rt_str(p, "residence", "permanent", "relation", NULL), "spouse");
        json_decref(p);

        json_t *h = rt_household(t, hh, NULL);
        assert_string_equal(rt_str(h, "head", NULL), DAD);
        assert_members(h, 2, (const char *[]){DAD, MUM});
        json_decref(h);

        /* The journal keeps actor, the default or given legal basis and the normalized event. */
        json_t *hist = NULL;
        assert_int_equal(reg_history_json(t->r, rt_pid(MUM), &hist, NULL), 0);
        json_t *e = json_array_get(json_object_get(hist, "events"), 0);
        assert_string_equal(rt_str(e, "type", NULL), "enrol");
        assert_string_equal(rt_str(e, "actor", NULL), "test:registry");
        assert_string_equal(rt_str(e, "legal_basis", NULL), "Decision 12/QĐ of the commune");
        assert_string_equal(rt_str(e, "date", NULL), "2020-01-01");
        assert_string_equal(rt_str(e, "details", "nationality", NULL), "VNM");
        json_decref(hist);
        assert_int_equal(reg_history_json(t->r, rt_pid(DAD), &hist, NULL), 0);
        e = json_array_get(json_object_get(hist, "events"), 0);
        assert_non_null(strstr(rt_str(e, "legal_basis", NULL), "Decree 137/2015"));
        json_decref(hist);

        /* Someone born abroad, not a citizen, with no residence. */
        rt_do(t, "{'type':'enrol','pid':'201095123456','name':'Nguyễn An','dob':'1995',"
                 "'sex':'male','nationality':'USA'}");
        p = rt_person(t, "201095123456");
        assert_string_equal(rt_str(p, "nationality", NULL), "USA");
        assert_true(json_is_null(rt_get(p, "residence", "permanent", NULL)));
        json_decref(p);
}

/* A birth allocates a valid ID matching the birth year, sex and province of registration. */
static void assert_birth_pid(const char *pid, int prefix, int year, enum sex sex)
{
        struct pid_info id;
        struct pop_err err = {0};
        assert_int_equal(pid_parse(pid, strlen(pid), &id, &err), 0);
        assert_int_equal(id.prefix, prefix);
        assert_int_equal(id.birth_year, year);
        assert_int_equal(id.sex, sex);
        assert_int_equal(id.century_sex, pid_century_sex(year, sex));
}

static void test_birth(void **state)
{
        struct rt *t = *state;
        int64_t hh = couple(t);
        json_t *res = rt_ok(t, "{'type':'birth','name':'Trần Minh Khoa','dob':'2026-11-01',"
                               "'sex':'male','birth_province':'79','father':'" DAD "',"
                               "'mother':'" MUM "','date':'2026-11-20'}");
        char kid[PID_LEN + 1];
        snprintf(kid, sizeof kid, "%s", rt_str(res, "pid", NULL));
        assert_birth_pid(kid, 79, 2026, SEX_MALE);
        assert_int_equal(household_of(res), hh);
        json_decref(res);

        json_t *p = rt_person(t, kid);
        assert_string_equal(rt_str(p, "dob", NULL), "2026-11-01");
        assert_string_equal(rt_str(p, "father", NULL), DAD);
        assert_string_equal(rt_str(p, "mother", NULL), MUM);
        assert_string_equal(rt_str(p, "birth_province", "code", NULL), "79");
        assert_string_equal(rt_str(p, "ethnicity", NULL), "Kinh");    /* the parents' */
        assert_string_equal(rt_str(p, "hometown", NULL), "Nam Định"); /* the father's */
        assert_string_equal(rt_str(p, "nationality", NULL), "VNM");
        /* Permanent residence in the parents' household, as the head's child. */
        assert_int_equal(json_integer_value(rt_get(p, "residence", "permanent", "household", NULL)),
                         hh);
        assert_string_equal(rt_str(p, "residence", "permanent", "relation", NULL), "child");
        assert_string_equal(rt_str(p, "residence", "permanent", "valid_from", NULL), "2026-11-20");
        json_decref(p);
        p = rt_person(t, DAD);
        assert_int_equal(json_array_size(json_object_get(p, "children")), 1);
        assert_string_equal(json_string_value(json_array_get(json_object_get(p, "children"), 0)),
                            kid);
        json_decref(p);

        /* The series (079, 2, 26) moved on; the twin sister gets a number of her own series. */
        uint32_t next = 0;
        assert_int_equal(store_series_get(t->r->st, 79 * 1000 + 2 * 100 + 26, &next, NULL), 0);
        assert_true(next >= 1);
        res = rt_ok(t, "{'type':'birth','name':'Trần Thị Mai Anh','dob':'2026-11-01',"
                       "'sex':'female','birth_province':'79','father':'" DAD "',"
                       "'mother':'" MUM "','date':'2026-11-20'}");
        char twin[PID_LEN + 1];
        snprintf(twin, sizeof twin, "%s", rt_str(res, "pid", NULL));
        json_decref(res);
        assert_birth_pid(twin, 79, 2026, SEX_FEMALE);
        /* A brother in the same series gets a different number. */
        res = rt_ok(t, "{'type':'birth','name':'Trần Minh Quân','dob':'2026-11-01',"
                       "'sex':'male','birth_province':'79','father':'" DAD "',"
                       "'mother':'" MUM "','date':'2026-11-20'}");
        assert_birth_pid(rt_str(res, "pid", NULL), 79, 2026, SEX_MALE);
        assert_string_not_equal(rt_str(res, "pid", NULL), kid);
        json_decref(res);

        json_t *h = rt_household(t, hh, NULL);
        assert_int_equal(json_array_size(json_object_get(h, "members")), 5);
        assert_string_equal(rt_str(h, "head", NULL), DAD);
        json_decref(h);

        /* The journal names the child and both parents, with the allocated ID filled in. */
        json_t *hist = NULL;
        assert_int_equal(reg_history_json(t->r, rt_pid(kid), &hist, NULL), 0);
        json_t *e = json_array_get(json_object_get(hist, "events"), 0);
        assert_string_equal(rt_str(e, "type", NULL), "birth");
        assert_string_equal(rt_str(e, "details", "pid", NULL), kid);
        assert_int_equal(json_integer_value(rt_get(e, "details", "household", NULL)), hh);
        json_decref(hist);
}

/* A child of unmarried parents living apart lives in the mother's household; one born into the
 * grandparents' household is a grandchild of its head. */
static void test_birth_household_choice(void **state)
{
        struct rt *t = *state;
        int64_t grand = enrol_at(t, "001055000005", "Trần Văn Lộc", "1955-01-01", "male", ADDR_HN);
        rt_do(t,
              "{'type':'enrol','pid':'" DAD "','name':'Trần Văn Nam','dob':'1980-03-02',"
              "'sex':'male','father':'001055000005','household':%lld,'relation':'child'}",
              (long long)grand);
        int64_t mums = enrol_at(t, MUM, "Lê Thị Mai", "1982-05-10", "female", ADDR_DN);
        json_t *res = rt_ok(t, "{'type':'birth','name':'Trần Thị Thu','dob':'2026-10-01',"
                               "'sex':'female','birth_province':'48','father':'" DAD "',"
                               "'mother':'" MUM "'}");
        assert_int_equal(household_of(res), mums);
        assert_birth_pid(rt_str(res, "pid", NULL), 48, 2026, SEX_FEMALE);
        json_t *p = rt_person(t, rt_str(res, "pid", NULL));
        assert_string_equal(rt_str(p, "residence", "permanent", "relation", NULL), "child");
        json_decref(p);
        json_decref(res);

        /* Father only: his household, his father's; so a grandchild of the head. */
        res = rt_ok(t, "{'type':'birth','name':'Trần Văn Tú','dob':'2026-10-02','sex':'male',"
                       "'birth_province':'01','father':'" DAD "'}");
        assert_int_equal(household_of(res), grand);
        p = rt_person(t, rt_str(res, "pid", NULL));
        assert_string_equal(rt_str(p, "residence", "permanent", "relation", NULL), "grandchild");
        assert_string_equal(rt_str(p, "ethnicity", NULL), "");
        json_decref(p);
        json_decref(res);

        /* The registrar may found a household for the child instead. */
        res = rt_ok(t, "{'type':'birth','name':'Lê Văn Bảo','dob':'2026-10-03','sex':'male',"
                       "'birth_province':'01','mother':'" MUM "','address':" ADDR_HCM "}");
        int64_t own = household_of(res);
        assert_true(own != mums && own != grand);
        json_decref(res);
}

/* The father may have died up to 300 days before the birth (LMF art. 88). */
static void test_birth_posthumous(void **state)
{
        struct rt *t = *state;
        couple(t);
        rt_do(t, "{'type':'death','pid':'" DAD "','date':'2026-01-01','new_head':'" MUM "'}");
        json_t *res = rt_ok(t, "{'type':'birth','name':'Trần Văn Nhớ','dob':'2026-10-28',"
                               "'sex':'male','birth_province':'01','father':'" DAD "',"
                               "'mother':'" MUM "'}"); /* 300 days after */
        json_t *p = rt_person(t, rt_str(res, "pid", NULL));
        assert_string_equal(rt_str(p, "father", NULL), DAD);
        json_decref(p);
        json_decref(res);
}

static void test_death(void **state)
{
        struct rt *t = *state;
        int64_t hh = couple(t);
        rt_do(t, "{'type':'card.issue','pid':'" DAD "','date':'2021-01-10'}");
        rt_do(t, "{'type':'temporary.register','pid':'" DAD "','address':" ADDR_DN ","
                 "'until':'2027-08-01','date':'2025-08-01'}");
        json_t *res = rt_ok(t, "{'type':'death','pid':'" DAD "','date':'2026-11-01',"
                               "'new_head':'" MUM "'}");
        assert_string_equal(rt_str(res, "date", NULL), "2026-11-01");
        json_decref(res);

        json_t *p = rt_person(t, DAD);
        assert_string_equal(rt_str(p, "status", NULL), "deceased");
        assert_string_equal(rt_str(p, "death_date", NULL), "2026-11-01");
        assert_true(json_is_null(json_object_get(p, "spouse")));
        /* Residence of both kinds ended; the card revoked (LI art. 22). */
        assert_true(json_is_null(rt_get(p, "residence", "permanent", NULL)));
        assert_true(json_is_null(rt_get(p, "residence", "temporary", NULL)));
        json_t *card = json_array_get(json_object_get(p, "cards"), 0);
        assert_string_equal(rt_str(card, "status", NULL), "revoked");
        assert_string_equal(rt_str(card, "reason", NULL), "deceased");
        assert_string_equal(rt_str(card, "status_date", NULL), "2026-11-01");
        json_decref(p);
        json_t *snap = rt_snapshot(t, NULL, 0);
        json_t *hist = rt_get(snap, "people", DAD, "residences", NULL);
        assert_int_equal(json_array_size(hist), 2);
        for (size_t i = 0; i < 2; i++) {
                assert_string_equal(rt_str(json_array_get(hist, i), "ended", NULL), "2026-11-01");
                assert_string_equal(rt_str(json_array_get(hist, i), "end_reason", NULL),
                                    "deceased");
        }
        json_decref(snap);

        /* The widow is unmarried and heads the household from the day of death. */
        p = rt_person(t, MUM);
        assert_true(json_is_null(json_object_get(p, "spouse")));
        json_decref(p);
        json_t *h = rt_household(t, hh, NULL);
        assert_string_equal(rt_str(h, "head", NULL), MUM);
        assert_members(h, 1, (const char *[]){MUM});
        json_decref(h);
        h = rt_household(t, hh, "2026-10-31");
        assert_string_equal(rt_str(h, "head", NULL), DAD);
        assert_members(h, 2, (const char *[]){DAD, MUM});
        json_decref(h);
        /* She may marry again. */
        enrol(t, HUNG, "Phạm Văn Hùng", "1990-07-15", "male");
        rt_do(t, "{'type':'marriage','a':'" HUNG "','b':'" MUM "'}");
}

static void test_marriage(void **state)
{
        struct rt *t = *state;
        enrol(t, HUNG, "Phạm Văn Hùng", "1990-07-15", "male");
        enrol(t, LAN, "Nguyễn Thị Lan", "1995-09-20", "female");
        json_t *res = rt_ok(t, "{'type':'marriage','a':'" LAN "','b':'" HUNG "'}");
        assert_string_equal(rt_str(res, "date", NULL), "2026-11-23"); /* today by default */
        json_decref(res);
        json_t *p = rt_person(t, HUNG);
        assert_string_equal(rt_str(p, "spouse", NULL), LAN);
        json_decref(p);
        p = rt_person(t, LAN);
        assert_string_equal(rt_str(p, "spouse", NULL), HUNG);
        json_decref(p);
        json_t *hist = NULL;
        assert_int_equal(reg_history_json(t->r, rt_pid(HUNG), &hist, NULL), 0);
        assert_string_equal(
            rt_str(json_array_get(json_object_get(hist, "events"), 1), "type", NULL), "marriage");
        json_decref(hist);

        /* The youngest who may marry: a man on his 20th birthday, a woman on her 18th
         * (LMF art. 8(1)(a)). */
        enrol(t, "001206000022", "Đỗ Văn Tùng", "2006-11-23", "male");
        enrol(t, "001308000023", "Vũ Thị Hạnh", "2008-11-23", "female");
        rt_do(t, "{'type':'marriage','a':'001206000022','b':'001308000023'}");
}

static void test_divorce(void **state)
{
        struct rt *t = *state;
        couple(t);
        rt_do(t, "{'type':'divorce','a':'" MUM "','b':'" DAD "','date':'2025-03-01'}");
        for (int i = 0; i < 2; i++) {
                json_t *p = rt_person(t, i ? MUM : DAD);
                assert_true(json_is_null(json_object_get(p, "spouse")));
                json_decref(p);
        }
        /* Both may marry again, each other included. */
        rt_do(t, "{'type':'marriage','a':'" DAD "','b':'" MUM "'}");
}

static void test_correction(void **state)
{
        struct rt *t = *state;
        couple(t);
        rt_do(t, "{'type':'correction','pid':'" MUM "','name':'Lê Thị Mây','dob':'1982-06-10',"
                 "'hometown':'Huế','religion':'Phật giáo'}");
        json_t *p = rt_person(t, MUM);
        assert_string_equal(rt_str(p, "full_name", NULL), "Lê Thị Mây");
        assert_string_equal(rt_str(p, "dob", NULL), "1982-06-10");
        assert_string_equal(rt_str(p, "hometown", NULL), "Huế");
        assert_string_equal(rt_str(p, "religion", NULL), "Phật giáo");
        json_decref(p);
        /* The journal keeps the values before. */
        json_t *hist = NULL;
        assert_int_equal(reg_history_json(t->r, rt_pid(MUM), &hist, NULL), 0);
        json_t *events = json_object_get(hist, "events");
        json_t *e = json_array_get(events, json_array_size(events) - 1);
        assert_string_equal(rt_str(e, "type", NULL), "correction");
        assert_string_equal(rt_str(e, "details", "before", "name", NULL), "Lê Thị Mai");
        assert_string_equal(rt_str(e, "details", "before", "dob", NULL), "1982-05-10");
        assert_string_equal(rt_str(e, "details", "before", "hometown", NULL), "Hà Nội");
        assert_string_equal(rt_str(e, "details", "before", "religion", NULL), "");
        json_decref(hist);

        /* Religion can be cleared again ("" is none), and the nationality changed. */
        rt_do(t, "{'type':'correction','pid':'" MUM "','religion':'','nationality':'LAO'}");
        p = rt_person(t, MUM);
        assert_string_equal(rt_str(p, "religion", NULL), "");
        assert_string_equal(rt_str(p, "nationality", NULL), "LAO");
        json_decref(p);
}

static void test_residence_register(void **state)
{
        struct rt *t = *state;
        enrol(t, HUNG, "Phạm Văn Hùng", "1990-07-15", "male");
        enrol(t, LAN, "Nguyễn Thị Lan", "1995-09-20", "female");
        json_t *res = rt_ok(t, "{'type':'residence.register','pid':'" HUNG "','address':" ADDR_HCM
                               ",'date':'2026-02-01'}");
        int64_t hh = household_of(res);
        json_decref(res);
        rt_do(t,
              "{'type':'residence.register','pid':'" LAN "','household':%lld,"
              "'relation':'other','date':'2026-03-01'}",
              (long long)hh);
        json_t *h = rt_household(t, hh, NULL);
        assert_string_equal(rt_str(h, "head", NULL), HUNG);
        assert_string_equal(rt_str(h, "address", "province", "code", NULL), "79");
        assert_members(h, 2, (const char *[]){HUNG, LAN});
        json_decref(h);
        json_t *p = rt_person(t, LAN);
        assert_string_equal(rt_str(p, "residence", "permanent", "relation", NULL), "other");
        assert_string_equal(rt_str(p, "residence", "permanent", "address", "commune", NULL),
                            "26734");
        json_decref(p);
}

static void test_residence_move(void **state)
{
        struct rt *t = *state;
        int64_t hh = couple(t);
        char kid[PID_LEN + 1];
        first_child(t, kid);
        /* The head leaves for a new address and names his wife head of the old household. */
        json_t *res = rt_ok(t, "{'type':'residence.move','pid':'" DAD "','address':" ADDR_DN ","
                               "'new_head':'" MUM "','date':'2026-05-01'}");
        int64_t dn = household_of(res);
        assert_true(dn != hh);
        json_decref(res);
        json_t *h = rt_household(t, hh, NULL);
        assert_string_equal(rt_str(h, "head", NULL), MUM);
        assert_members(h, 2, (const char *[]){MUM, kid});
        json_decref(h);
        h = rt_household(t, dn, NULL);
        assert_string_equal(rt_str(h, "head", NULL), DAD);
        assert_members(h, 1, (const char *[]){DAD});
        json_decref(h);

        /* The child joins the father. */
        rt_do(t,
              "{'type':'residence.move','pid':'%s','household':%lld,'relation':'child',"
              "'date':'2026-06-01'}",
              kid, (long long)dn);
        h = rt_household(t, dn, NULL);
        assert_members(h, 2, (const char *[]){DAD, kid});
        json_decref(h);

        json_t *snap = rt_snapshot(t, NULL, 0);
        json_t *hist = rt_get(snap, "people", DAD, "residences", NULL);
        assert_int_equal(json_array_size(hist), 2);
        assert_string_equal(rt_str(json_array_get(hist, 0), "ended", NULL), "2026-05-01");
        assert_string_equal(rt_str(json_array_get(hist, 0), "end_reason", NULL), "moved");
        assert_null(rt_str(json_array_get(hist, 1), "ended", NULL));
        /* The journal records where the move came from. */
        json_t *j = rt_get(snap, "people", kid, "journal", NULL);
        json_t *last = json_array_get(j, json_array_size(j) - 1);
        json_t *payload = json_loads(rt_str(last, "payload", NULL), 0, NULL);
        assert_int_equal(json_integer_value(json_object_get(payload, "from_household")), hh);
        json_decref(payload);
        json_decref(snap);
}

static void test_residence_deregister(void **state)
{
        struct rt *t = *state;
        int64_t hh = couple(t);
        rt_do(t, "{'type':'residence.deregister','pid':'" DAD "','reason':'emigrated',"
                 "'new_head':'" MUM "','date':'2026-01-15'}");
        json_t *p = rt_person(t, DAD);
        assert_true(json_is_null(rt_get(p, "residence", "permanent", NULL)));
        json_decref(p);
        json_t *h = rt_household(t, hh, NULL);
        assert_string_equal(rt_str(h, "head", NULL), MUM);
        assert_members(h, 1, (const char *[]){MUM});
        json_decref(h);
        /* The residence on a date before is still known. */
        json_t *r = NULL;
        assert_int_equal(reg_residence_json(t->r, rt_pid(DAD), rt_date("2026-01-14"), &r, NULL), 0);
        assert_int_equal(json_integer_value(rt_get(r, "permanent", "household", NULL)), hh);
        json_decref(r);
        json_t *snap = rt_snapshot(t, NULL, 0);
        assert_string_equal(
            rt_str(json_array_get(rt_get(snap, "people", DAD, "residences", NULL), 0), "end_reason",
                   NULL),
            "emigrated");
        json_decref(snap);
        /* The last member leaving needs no successor. */
        rt_do(t, "{'type':'residence.deregister','pid':'" MUM "','reason':'emigrated'}");
        h = rt_household(t, hh, NULL);
        assert_members(h, 0, NULL);
        json_decref(h);
}

static void test_temporary_register(void **state)
{
        struct rt *t = *state;
        couple(t);
        /* Exactly 2 years is the most (LR art. 27(3)). */
        rt_do(t, "{'type':'temporary.register','pid':'" DAD "','address':" ADDR_DN ","
                 "'until':'2028-01-10','date':'2026-01-10'}");
        json_t *p = rt_person(t, DAD);
        json_t *tmp = rt_get(p, "residence", "temporary", NULL);
        assert_string_equal(rt_str(tmp, "kind", NULL), "temporary");
        assert_string_equal(rt_str(tmp, "valid_from", NULL), "2026-01-10");
        assert_string_equal(rt_str(tmp, "valid_to", NULL), "2028-01-10");
        assert_string_equal(rt_str(tmp, "address", "commune", NULL), "20194");
        assert_null(json_object_get(tmp, "household"));
        /* The permanent residence is unchanged. */
        assert_string_equal(rt_str(p, "residence", "permanent", "relation", NULL), "head");
        json_decref(p);
        /* Another commune of the same province is fine. */
        rt_do(t, "{'type':'temporary.register','pid':'" MUM "','address':" ADDR_HN2 ","
                 "'until':'2027-01-01'}");

        /* A lapsed temporary residence is closed as expired when a new one is registered. */
        enrol(t, HUNG, "Phạm Văn Hùng", "1990-07-15", "male");
        rt_do(t, "{'type':'temporary.register','pid':'" HUNG "','address':" ADDR_DN ","
                 "'until':'2024-01-01','date':'2023-01-01'}");
        rt_do(t, "{'type':'temporary.register','pid':'" HUNG "','address':" ADDR_HCM ","
                 "'until':'2027-01-01','date':'2026-01-01'}");
        json_t *snap = rt_snapshot(t, NULL, 0);
        json_t *hist = rt_get(snap, "people", HUNG, "residences", NULL);
        assert_int_equal(json_array_size(hist), 2);
        assert_string_equal(rt_str(json_array_get(hist, 0), "ended", NULL), "2024-01-01");
        assert_string_equal(rt_str(json_array_get(hist, 0), "end_reason", NULL), "expired");
        json_decref(snap);
}

static void test_temporary_extend(void **state)
{
        struct rt *t = *state;
        couple(t);
        rt_do(t, "{'type':'temporary.register','pid':'" DAD "','address':" ADDR_DN ","
                 "'until':'2027-01-10','date':'2026-01-10'}");
        /* Up to 2 more years from the current end. */
        rt_do(t, "{'type':'temporary.extend','pid':'" DAD "','until':'2029-01-10'}");
        json_t *p = rt_person(t, DAD);
        assert_string_equal(rt_str(p, "residence", "temporary", "valid_to", NULL), "2029-01-10");
        assert_string_equal(rt_str(p, "residence", "temporary", "valid_from", NULL), "2026-01-10");
        json_decref(p);
        json_t *snap = rt_snapshot(t, NULL, 0);
        json_t *j = rt_get(snap, "people", DAD, "journal", NULL);
        json_t *payload =
            json_loads(rt_str(json_array_get(j, json_array_size(j) - 1), "payload", NULL), 0, NULL);
        assert_string_equal(rt_str(payload, "previous_until", NULL), "2027-01-10");
        json_decref(payload);
        /* Still one temporary residence record. */
        assert_int_equal(json_array_size(rt_get(snap, "people", DAD, "residences", NULL)), 2);
        json_decref(snap);
}

static void test_temporary_deregister(void **state)
{
        struct rt *t = *state;
        couple(t);
        rt_do(t, "{'type':'temporary.register','pid':'" DAD "','address':" ADDR_DN ","
                 "'until':'2027-01-10','date':'2026-01-10'}");
        rt_do(t, "{'type':'temporary.deregister','pid':'" DAD "','reason':'returned home',"
                 "'date':'2026-06-01'}");
        json_t *p = rt_person(t, DAD);
        assert_true(json_is_null(rt_get(p, "residence", "temporary", NULL)));
        json_decref(p);
        json_t *r = NULL;
        assert_int_equal(reg_residence_json(t->r, rt_pid(DAD), rt_date("2026-05-31"), &r, NULL), 0);
        assert_string_equal(rt_str(r, "temporary", "address", "commune", NULL), "20194");
        json_decref(r);
        assert_int_equal(reg_residence_json(t->r, rt_pid(DAD), rt_date("2026-06-01"), &r, NULL), 0);
        assert_true(json_is_null(json_object_get(r, "temporary")));
        json_decref(r);
        /* A new one may follow; the default reason is recorded. */
        rt_do(t, "{'type':'temporary.register','pid':'" DAD "','address':" ADDR_HCM ","
                 "'until':'2027-01-10','date':'2026-07-01'}");
        rt_do(t, "{'type':'temporary.deregister','pid':'" DAD "'}");
        json_t *snap = rt_snapshot(t, NULL, 0);
        json_t *hist = rt_get(snap, "people", DAD, "residences", NULL);
        assert_int_equal(json_array_size(hist), 3);
        assert_string_equal(rt_str(json_array_get(hist, 1), "end_reason", NULL), "returned home");
        assert_string_equal(rt_str(json_array_get(hist, 2), "end_reason", NULL), "deregistered");
        json_decref(snap);
}

static void test_household_head(void **state)
{
        struct rt *t = *state;
        int64_t hh = couple(t);
        char kid[PID_LEN + 1];
        first_child(t, kid);
        rt_do(t, "{'type':'household.head','household':%lld,'pid':'" MUM "','date':'2024-03-01'}",
              (long long)hh);
        /* Exactly one head at any time: the new one from that day, the old one before. */
        json_t *h = rt_household(t, hh, NULL);
        assert_string_equal(rt_str(h, "head", NULL), MUM);
        assert_members(h, 3, (const char *[]){DAD, MUM, kid}); /* the old head stays */
        json_decref(h);
        h = rt_household(t, hh, "2024-03-01");
        assert_string_equal(rt_str(h, "head", NULL), MUM);
        json_decref(h);
        h = rt_household(t, hh, "2024-02-29");
        assert_string_equal(rt_str(h, "head", NULL), DAD);
        json_decref(h);
        /* The household id may be given as a string. */
        rt_do(t, "{'type':'household.head','household':'%lld','pid':'" DAD "'}", (long long)hh);
        h = rt_household(t, hh, NULL);
        assert_string_equal(rt_str(h, "head", NULL), DAD);
        json_decref(h);
        /* A minor may head a household with no adult member. */
        rt_do(t, "{'type':'residence.deregister','pid':'" MUM "','reason':'emigrated'}");
        rt_do(t, "{'type':'death','pid':'" DAD "','new_head':'%s'}", kid);
        h = rt_household(t, hh, NULL);
        assert_string_equal(rt_str(h, "head", NULL), kid);
        assert_members(h, 1, (const char *[]){kid});
        json_decref(h);
}

/* Who lived in the household on a date: arrivals count from their day, departures end on theirs. */
static void test_household_on_date(void **state)
{
        struct rt *t = *state;
        int64_t hh = couple(t);
        char kid[PID_LEN + 1];
        first_child(t, kid);
        enrol(t, "001157000006", "Đỗ Thị Hoa", "1957-02-02", "female");
        rt_do(t,
              "{'type':'residence.register','pid':'001157000006','household':%lld,"
              "'relation':'relative','date':'2023-03-01'}",
              (long long)hh);
        rt_do(t, "{'type':'residence.move','pid':'001157000006','address':" ADDR_DN ","
                 "'date':'2024-05-01'}");
        rt_do(t, "{'type':'death','pid':'" DAD "','date':'2025-02-01','new_head':'" MUM "'}");
        static const struct {
                const char *on;
                const char *head;
                int n;
                const char *members[4];
        } cases[] = {
            {"2019-12-31", NULL, 0, {NULL}},
            {"2020-01-01", DAD, 2, {DAD, MUM}},
            {"2021-06-09", DAD, 2, {DAD, MUM}},
            {"2021-06-10", DAD, 3, {DAD, MUM, NULL}},
            {"2023-03-01", DAD, 4, {DAD, MUM, NULL, "001157000006"}},
            {"2024-04-30", DAD, 4, {DAD, MUM, NULL, "001157000006"}},
            {"2024-05-01", DAD, 3, {DAD, MUM, NULL}},
            {"2025-01-31", DAD, 3, {DAD, MUM, NULL}},
            {"2025-02-01", MUM, 2, {MUM, NULL}},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                json_t *h = rt_household(t, hh, cases[i].on);
                const char *want[4];
                for (int j = 0; j < cases[i].n; j++)
                        want[j] = cases[i].members[j] ? cases[i].members[j] : kid;
                print_message("on %s\n", cases[i].on);
                if (cases[i].head)
                        assert_string_equal(rt_str(h, "head", NULL), cases[i].head);
                else
                        assert_true(json_is_null(json_object_get(h, "head")));
                assert_members(h, cases[i].n, want);
                assert_string_equal(rt_str(h, "on", NULL), cases[i].on);
                json_decref(h);
        }
}

/* Law on Identity 2023 art. 21: renewal at 14, 25, 40 and 60; a card issued in the 2 years before
 * one of those ages lasts to the next; from 58 on (within 2 years of 60) it never expires. */
static void test_card_issue_expiry(void **state)
{
        struct rt *t = *state;
        static const struct {
                const char *pid, *dob, *sex, *issued, *expires; /* expires NULL: never */
        } cases[] = {
            {"001215000034", "2015-01-10", "male", "2026-01-20", "2029-01-10"},   /* 11: to 14 */
            {"001314000035", "2014-03-01", "female", "2026-04-01", "2039-03-01"}, /* 12: to 25 */
            {"001205000031", "2005-04-20", "male", "2025-05-01", "2030-04-20"},   /* 20: to 25 */
            {"001302000032", "2002-01-15", "female", "2026-02-01", "2042-01-15"}, /* 24: to 40 */
            {"001189000037", "1989-06-01", "female", "2026-06-15", "2029-06-01"}, /* 37: to 40 */
            {"001088000036", "1988-01-01", "male", "2026-02-01", "2048-01-01"},   /* 38: to 60 */
            {"001168000042", "1968-12-01", "female", "2026-11-20", "2028-12-01"}, /* 57: to 60 */
            {"001068000041", "1968-01-01", "male", "2026-01-01", NULL},           /* 58 */
            {"001067000033", "1967-02-01", "male", "2026-03-01", NULL},           /* 59 */
            {"001066000040", "1966-06-01", "male", "2026-07-01", NULL},           /* 60 */
            /* 29 February: the 25th birthday falls on 1 March in a common year. */
            {"001204000038", "2004-02-29", "male", "2025-03-01", "2029-03-01"},
            /* A year-only date of birth counts from 1 January. */
            {"001190000039", "1990", "female", "2026-01-05", "2030-01-01"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                enrol(t, cases[i].pid, "Nguyễn Văn Thẻ", cases[i].dob, cases[i].sex);
                json_t *res = rt_ok(t, "{'type':'card.issue','pid':'%s','date':'%s'}", cases[i].pid,
                                    cases[i].issued);
                print_message("born %s, issued %s\n", cases[i].dob, cases[i].issued);
                json_t *card = json_object_get(res, "card");
                assert_string_equal(rt_str(card, "number", NULL), cases[i].pid);
                assert_string_equal(rt_str(card, "issued", NULL), cases[i].issued);
                assert_string_equal(rt_str(card, "status", NULL), "valid");
                if (cases[i].expires)
                        assert_string_equal(rt_str(card, "expires", NULL), cases[i].expires);
                else
                        assert_true(json_is_null(json_object_get(card, "expires")));
                /* The person's record shows the same card. */
                json_t *p = rt_person(t, cases[i].pid);
                assert_true(json_equal(json_array_get(json_object_get(p, "cards"), 0), card));
                json_decref(p);
                json_decref(res);
        }
}

static void test_card_renew(void **state)
{
        struct rt *t = *state;
        enrol(t, "001201000050", "Ngô Văn Đức", "2001-12-01", "male");
        /* Issued at 14: lasts to 25; renewed at 24, within 2 years of 25: lasts to 40. */
        rt_do(t, "{'type':'card.issue','pid':'001201000050','date':'2015-12-05'}");
        json_t *res = rt_ok(t, "{'type':'card.renew','pid':'001201000050','date':'2026-11-20'}");
        assert_string_equal(rt_str(res, "card", "expires", NULL), "2041-12-01");
        json_decref(res);
        json_t *p = rt_person(t, "001201000050");
        json_t *cards = json_object_get(p, "cards");
        assert_int_equal(json_array_size(cards), 2);
        assert_string_equal(rt_str(json_array_get(cards, 0), "expires", NULL), "2026-12-01");
        assert_string_equal(rt_str(json_array_get(cards, 0), "status", NULL), "replaced");
        assert_string_equal(rt_str(json_array_get(cards, 0), "reason", NULL), "renewal");
        assert_string_equal(rt_str(json_array_get(cards, 0), "status_date", NULL), "2026-11-20");
        assert_string_equal(rt_str(json_array_get(cards, 1), "status", NULL), "valid");
        assert_string_equal(rt_str(json_array_get(cards, 1), "issued", NULL), "2026-11-20");
        json_decref(p);
        /* With a reason. */
        rt_do(t, "{'type':'card.renew','pid':'001201000050','reason':'damaged'}");
        p = rt_person(t, "001201000050");
        cards = json_object_get(p, "cards");
        assert_int_equal(json_array_size(cards), 3);
        assert_string_equal(rt_str(json_array_get(cards, 1), "reason", NULL), "damaged");
        json_decref(p);
}

static void test_card_lost(void **state)
{
        struct rt *t = *state;
        couple(t);
        rt_do(t, "{'type':'card.issue','pid':'" MUM "','date':'2024-02-01'}");
        rt_do(t, "{'type':'card.lost','pid':'" MUM "','date':'2026-01-01'}");
        json_t *p = rt_person(t, MUM);
        json_t *card = json_array_get(json_object_get(p, "cards"), 0);
        assert_string_equal(rt_str(card, "status", NULL), "lost");
        assert_string_equal(rt_str(card, "status_date", NULL), "2026-01-01");
        assert_string_equal(rt_str(card, "reason", NULL), "reported lost");
        json_decref(p);
        /* A new card may be issued. */
        rt_do(t, "{'type':'card.issue','pid':'" MUM "'}");
        p = rt_person(t, MUM);
        assert_int_equal(json_array_size(json_object_get(p, "cards")), 2);
        json_decref(p);
}

static void test_card_revoke(void **state)
{
        struct rt *t = *state;
        couple(t);
        rt_do(t, "{'type':'card.issue','pid':'" DAD "','date':'2024-02-01'}");
        rt_do(t, "{'type':'card.revoke','pid':'" DAD "','reason':'court decision 7/2026'}");
        json_t *p = rt_person(t, DAD);
        json_t *card = json_array_get(json_object_get(p, "cards"), 0);
        assert_string_equal(rt_str(card, "status", NULL), "revoked");
        assert_string_equal(rt_str(card, "reason", NULL), "court decision 7/2026");
        assert_string_equal(rt_str(card, "status_date", NULL), "2026-11-23");
        json_decref(p);
}

/* ================================================================================== */
/* Refusals: every rule of docs/EVENTS.md, and the other refusals events.c names.     */
/* ================================================================================== */

/* pid-length, pid-syntax (docs/EVENTS.md called it pid-digit), pid-prefix: malformed. */
static void test_rule_pid_syntax(void **state)
{
        struct rt *t = *state;
        couple(t);
        rt_refuse(t, POP_EINVAL, "pid-length", "{'type':'death','pid':'00108000000'}");
        rt_refuse(t, POP_EINVAL, "pid-length", "{'type':'card.issue','pid':'0010800000011'}");
        rt_refuse(t, POP_EINVAL, "pid-syntax", "{'type':'death','pid':'00108000000x'}");
        rt_refuse(t, POP_EINVAL, "pid-syntax",
                  "{'type':'marriage','a':'" DAD "','b':'001 82000002'}");
        rt_refuse(t, POP_EINVAL, "pid-prefix", "{'type':'death','pid':'003080000001'}");
        rt_refuse(t, POP_EINVAL, "pid-prefix",
                  "{'type':'enrol','pid':'296090000001','name':'Lê Văn A','dob':'1990',"
                  "'sex':'male'}");
        rt_refuse(t, POP_EINVAL, "pid-prefix",
                  "{'type':'birth','name':'Trần Văn B','dob':'2026-11-01','sex':'male',"
                  "'birth_province':'01','father':'100080000001'}");
}

/* pid-inconsistent: the ID's year and sex digit match the date of birth and sex, for life. */
static void test_rule_pid_inconsistent(void **state)
{
        struct rt *t = *state;
        couple(t);
        rt_refuse(t, POP_ERULE, "pid-inconsistent",
                  "{'type':'enrol','pid':'001090000003','name':'Phạm Văn A','dob':'1991-01-01',"
                  "'sex':'male'}");
        rt_refuse(t, POP_ERULE, "pid-inconsistent",
                  "{'type':'enrol','pid':'001090000003','name':'Phạm Thị A','dob':'1990',"
                  "'sex':'female'}");
        /* 2000s: G is 2 or 3, so 0 (1900s) does not fit 2000. */
        rt_refuse(t, POP_ERULE, "pid-inconsistent",
                  "{'type':'enrol','pid':'001000000003','name':'Phạm Văn A','dob':'2000',"
                  "'sex':'male'}");
        rt_refuse(t, POP_ERULE, "pid-inconsistent",
                  "{'type':'correction','pid':'" DAD "','dob':'1981-03-02'}");
        rt_refuse(t, POP_ERULE, "pid-inconsistent",
                  "{'type':'correction','pid':'" DAD "','sex':'female'}");
}

static void test_rule_person_exists(void **state)
{
        struct rt *t = *state;
        couple(t);
        rt_refuse(t, POP_ECONFLICT, "person-exists",
                  "{'type':'enrol','pid':'" DAD "','name':'Trần Văn Khác','dob':'1980',"
                  "'sex':'male','address':" ADDR_HCM "}");
}

static void test_rule_person_not_found(void **state)
{
        struct rt *t = *state;
        couple(t);
        rt_refuse(t, POP_ENOTFOUND, "person-not-found", "{'type':'death','pid':'001090099999'}");
        rt_refuse(t, POP_ENOTFOUND, "person-not-found",
                  "{'type':'marriage','a':'" HUNG "','b':'" LAN "'}");
        rt_refuse(t, POP_ENOTFOUND, "person-not-found",
                  "{'type':'birth','name':'Trần Văn B','dob':'2026-11-01','sex':'male',"
                  "'birth_province':'01','father':'" HUNG "','mother':'" MUM "'}");
        rt_refuse(t, POP_ENOTFOUND, "person-not-found",
                  "{'type':'enrol','pid':'001205000001','name':'Trần Văn C','dob':'2005',"
                  "'sex':'male','mother':'" LAN "'}");
        rt_refuse(t, POP_ENOTFOUND, "person-not-found",
                  "{'type':'card.revoke','pid':'" LAN "','reason':'x'}");
}

/* person-deceased: a dead person cannot marry, move, die again, get a card... */
static void test_rule_person_deceased(void **state)
{
        struct rt *t = *state;
        int64_t hh = couple(t);
        enrol(t, LAN, "Nguyễn Thị Lan", "1995-09-20", "female");
        rt_do(t, "{'type':'death','pid':'" DAD "','date':'2025-01-01','new_head':'" MUM "'}");
        rt_refuse(t, POP_ERULE, "person-deceased", "{'type':'death','pid':'" DAD "'}");
        rt_refuse(t, POP_ERULE, "person-deceased",
                  "{'type':'marriage','a':'" DAD "','b':'" LAN "'}");
        rt_refuse(t, POP_ERULE, "person-deceased",
                  "{'type':'marriage','a':'" LAN "','b':'" DAD "'}");
        rt_refuse(t, POP_ERULE, "person-deceased", "{'type':'card.issue','pid':'" DAD "'}");
        rt_refuse(t, POP_ERULE, "person-deceased", "{'type':'card.renew','pid':'" DAD "'}");
        rt_refuse(t, POP_ERULE, "person-deceased", "{'type':'card.lost','pid':'" DAD "'}");
        rt_refuse(t, POP_ERULE, "person-deceased",
                  "{'type':'residence.register','pid':'" DAD "','address':" ADDR_HCM "}");
        rt_refuse(t, POP_ERULE, "person-deceased",
                  "{'type':'residence.move','pid':'" DAD "','address':" ADDR_HCM "}");
        rt_refuse(t, POP_ERULE, "person-deceased",
                  "{'type':'residence.deregister','pid':'" DAD "','reason':'x'}");
        rt_refuse(t, POP_ERULE, "person-deceased",
                  "{'type':'temporary.register','pid':'" DAD "','address':" ADDR_HCM ","
                  "'until':'2027-01-01'}");
        rt_refuse(t, POP_ERULE, "person-deceased",
                  "{'type':'temporary.extend','pid':'" DAD "','until':'2027-01-01'}");
        rt_refuse(t, POP_ERULE, "person-deceased",
                  "{'type':'temporary.deregister','pid':'" DAD "'}");
        rt_refuse(t, POP_ERULE, "person-deceased",
                  "{'type':'divorce','a':'" DAD "','b':'" MUM "'}");
        rt_refuse(t, POP_ERULE, "person-deceased",
                  "{'type':'household.head','household':%lld,'pid':'" DAD "'}", (long long)hh);
}

/* date-future: dates are not in the future. */
static void test_rule_date_future(void **state)
{
        struct rt *t = *state;
        couple(t);
        rt_refuse(t, POP_ERULE, "date-future",
                  "{'type':'death','pid':'" DAD "','date':'2026-11-24'}");
        rt_refuse(t, POP_ERULE, "date-future",
                  "{'type':'card.issue','pid':'" DAD "','date':'2030-01-01'}");
        rt_refuse(t, POP_ERULE, "date-future",
                  "{'type':'enrol','pid':'001226000009','name':'Trần Văn Mai Sau',"
                  "'dob':'2026-12-01','sex':'male'}");
        rt_refuse(t, POP_ERULE, "date-future",
                  "{'type':'birth','name':'Trần Văn Mai Sau','dob':'2026-11-24','sex':'male',"
                  "'birth_province':'01','father':'" DAD "','mother':'" MUM "'}");
        enrol(t, "001226000009", "Trần Văn Út", "2026", "male");
        rt_refuse(t, POP_ERULE, "date-future",
                  "{'type':'correction','pid':'001226000009','dob':'2026-12-01'}");
}

/* date-before-birth: nothing happens to someone before they are born. */
static void test_rule_date_before_birth(void **state)
{
        struct rt *t = *state;
        couple(t);
        rt_refuse(t, POP_ERULE, "date-before-birth",
                  "{'type':'death','pid':'" DAD "','date':'1979-12-31'}");
        rt_refuse(t, POP_ERULE, "date-before-birth",
                  "{'type':'card.issue','pid':'" MUM "','date':'1982-05-09'}");
        enrol(t, HUNG, "Phạm Văn Hùng", "1990-07-15", "male");
        enrol(t, LAN, "Nguyễn Thị Lan", "1995-09-20", "female");
        rt_refuse(t, POP_ERULE, "date-before-birth",
                  "{'type':'marriage','a':'" HUNG "','b':'" LAN "','date':'1995-09-19'}");
        rt_refuse(t, POP_ERULE, "date-before-birth",
                  "{'type':'residence.register','pid':'" LAN "','address':" ADDR_DN ","
                  "'date':'1995-01-01'}");
        rt_refuse(t, POP_ERULE, "date-before-birth",
                  "{'type':'temporary.register','pid':'" LAN "','address':" ADDR_DN ","
                  "'until':'1996-01-01','date':'1995-01-01'}");
        rt_refuse(t, POP_ERULE, "date-before-birth",
                  "{'type':'enrol','pid':'001226000009','name':'Trần Văn Út','dob':'2026-06-01',"
                  "'sex':'male','date':'2026-01-01'}");
        rt_refuse(t, POP_ERULE, "date-before-birth",
                  "{'type':'birth','name':'Trần Văn Út','dob':'2026-06-01','sex':'male',"
                  "'birth_province':'01','father':'" DAD "','mother':'" MUM "',"
                  "'date':'2026-05-31'}");
}

/* date-order: not before the state the event changes. */
static void test_rule_date_order(void **state)
{
        struct rt *t = *state;
        couple(t);
        rt_do(t, "{'type':'card.issue','pid':'" DAD "','date':'2024-02-01'}");
        rt_do(t, "{'type':'temporary.register','pid':'" MUM "','address':" ADDR_DN ","
                 "'until':'2027-01-01','date':'2025-08-01'}");
        rt_refuse(t, POP_ERULE, "date-order",
                  "{'type':'residence.move','pid':'" MUM "','address':" ADDR_HCM ","
                  "'date':'2019-12-31'}");
        rt_refuse(t, POP_ERULE, "date-order",
                  "{'type':'residence.deregister','pid':'" MUM "','reason':'x',"
                  "'date':'2019-12-31'}");
        rt_refuse(t, POP_ERULE, "date-order",
                  "{'type':'temporary.deregister','pid':'" MUM "','date':'2025-07-31'}");
        rt_refuse(t, POP_ERULE, "date-order",
                  "{'type':'card.lost','pid':'" DAD "','date':'2024-01-31'}");
        rt_refuse(t, POP_ERULE, "date-order",
                  "{'type':'card.revoke','pid':'" DAD "','reason':'x','date':'2024-01-31'}");
        rt_refuse(t, POP_ERULE, "date-order",
                  "{'type':'card.renew','pid':'" DAD "','date':'2024-01-31'}");
}

/* parent-sex, birth-before-parent. */
static void test_rule_parents(void **state)
{
        struct rt *t = *state;
        couple(t);
        rt_refuse(t, POP_ERULE, "parent-sex",
                  "{'type':'birth','name':'Trần Văn B','dob':'2026-11-01','sex':'male',"
                  "'birth_province':'01','father':'" MUM "'}");
        rt_refuse(t, POP_ERULE, "parent-sex",
                  "{'type':'birth','name':'Trần Văn B','dob':'2026-11-01','sex':'male',"
                  "'birth_province':'01','father':'" DAD "','mother':'" DAD "'}");
        rt_refuse(t, POP_ERULE, "parent-sex",
                  "{'type':'enrol','pid':'001205000001','name':'Trần Văn C','dob':'2005',"
                  "'sex':'male','mother':'" DAD "'}");
        rt_refuse(t, POP_ERULE, "birth-before-parent",
                  "{'type':'enrol','pid':'001079000001','name':'Trần Văn Cả','dob':'1979',"
                  "'sex':'male','father':'" DAD "'}");
        /* Born the same year as the mother, with a year-only date: not certainly after. */
        rt_refuse(t, POP_ERULE, "birth-before-parent",
                  "{'type':'enrol','pid':'001082000001','name':'Trần Văn Cả','dob':'1982',"
                  "'sex':'male','mother':'" MUM "'}");
}

/* parent-deceased: the mother is alive at the birth; the father died at most 300 days before
 * (LMF art. 88). */
static void test_rule_parent_deceased(void **state)
{
        struct rt *t = *state;
        couple(t);
        rt_do(t, "{'type':'death','pid':'" DAD "','date':'2025-12-31','new_head':'" MUM "'}");
        /* 301 days after the father's death. */
        rt_refuse(t, POP_ERULE, "parent-deceased",
                  "{'type':'birth','name':'Trần Văn B','dob':'2026-10-28','sex':'male',"
                  "'birth_province':'01','father':'" DAD "','mother':'" MUM "'}");
        rt_do(t, "{'type':'death','pid':'" MUM "','date':'2026-03-01'}");
        rt_refuse(t, POP_ERULE, "parent-deceased",
                  "{'type':'birth','name':'Trần Văn B','dob':'2026-03-02','sex':'male',"
                  "'birth_province':'01','mother':'" MUM "','address':" ADDR_HN "}");
}

/* ethnicity-required: when the parents' ethnicities differ, the agreed one is given (CC art. 29).
 */
static void test_rule_ethnicity_required(void **state)
{
        struct rt *t = *state;
        couple(t);
        rt_do(t, "{'type':'correction','pid':'" MUM "','ethnicity':'Tày'}");
        rt_refuse(t, POP_ERULE, "ethnicity-required",
                  "{'type':'birth','name':'Trần Văn B','dob':'2026-11-01','sex':'male',"
                  "'birth_province':'01','father':'" DAD "','mother':'" MUM "'}");
        json_t *res = rt_ok(t, "{'type':'birth','name':'Trần Văn B','dob':'2026-11-01',"
                               "'sex':'male','birth_province':'01','father':'" DAD "',"
                               "'mother':'" MUM "','ethnicity':'Tày'}");
        json_t *p = rt_person(t, rt_str(res, "pid", NULL));
        assert_string_equal(rt_str(p, "ethnicity", NULL), "Tày");
        json_decref(p);
        json_decref(res);
}

/* birth-household-required: with no parent household, one must be named (LR art. 12). */
static void test_rule_birth_household_required(void **state)
{
        struct rt *t = *state;
        enrol(t, DAD, "Trần Văn Nam", "1980-03-02", "male");
        enrol(t, MUM, "Lê Thị Mai", "1982-05-10", "female");
        rt_refuse(t, POP_ERULE, "birth-household-required",
                  "{'type':'birth','name':'Trần Văn B','dob':'2026-11-01','sex':'male',"
                  "'birth_province':'01','father':'" DAD "','mother':'" MUM "'}");
        rt_refuse(t, POP_ERULE, "birth-household-required",
                  "{'type':'birth','name':'Trần Văn B','dob':'2026-11-01','sex':'male',"
                  "'birth_province':'01'}");
        /* A deceased parent's household does not count. */
        int64_t hh = enrol_at(t, HUNG, "Phạm Văn Hùng", "1990-07-15", "male", ADDR_HCM);
        rt_do(t, "{'type':'death','pid':'" HUNG "','date':'2026-06-01'}");
        rt_refuse(t, POP_ERULE, "birth-household-required",
                  "{'type':'birth','name':'Phạm Văn B','dob':'2026-11-01','sex':'male',"
                  "'birth_province':'01','father':'" HUNG "','mother':'" MUM "'}");
        (void)hh;
}

/* region-province-merged: from 1 July 2025 only the 34 current units (Resolution 202/2025). */
static void test_rule_region_province_merged(void **state)
{
        struct rt *t = *state;
        couple(t);
        /* Hà Giang (02) was merged into Tuyên Quang (08). */
        rt_refuse(t, POP_ERULE, "region-province-merged",
                  "{'type':'birth','name':'Trần Văn B','dob':'2026-11-01','sex':'male',"
                  "'birth_province':'02','father':'" DAD "','mother':'" MUM "'}");
        rt_refuse(t, POP_ERULE, "region-province-merged",
                  "{'type':'temporary.register','pid':'" DAD "','until':'2027-01-01',"
                  "'address':{'province':'02','commune':'00700','line':'1 Trần Phú'}}");
        rt_refuse(t, POP_ERULE, "region-province-merged",
                  "{'type':'residence.move','pid':'" MUM "',"
                  "'address':{'province':'74','commune':'25747','line':'1 Trần Phú'}}");
        /* Before the merger the legacy province was valid. */
        rt_do(t, "{'type':'temporary.register','pid':'" DAD "','until':'2026-01-01',"
                 "'address':{'province':'02','commune':'00700','line':'1 Trần Phú'},"
                 "'date':'2025-06-30'}");
}

/* marriage-age: men from 20, women from 18 (LMF art. 8(1)(a)). */
static void test_rule_marriage_age(void **state)
{
        struct rt *t = *state;
        enrol(t, HUNG, "Phạm Văn Hùng", "1990-07-15", "male");
        enrol(t, LAN, "Nguyễn Thị Lan", "1995-09-20", "female");
        enrol(t, "001206000022", "Đỗ Văn Tùng", "2006-11-24", "male");   /* 20 tomorrow */
        enrol(t, "001308000023", "Vũ Thị Hạnh", "2008-11-24", "female"); /* 18 tomorrow */
        enrol(t, "001207000024", "Đỗ Văn Tài", "2007", "male");          /* 19 at most */
        rt_refuse(t, POP_ERULE, "marriage-age",
                  "{'type':'marriage','a':'001206000022','b':'" LAN "'}");
        rt_refuse(t, POP_ERULE, "marriage-age",
                  "{'type':'marriage','a':'" HUNG "','b':'001308000023'}");
        rt_refuse(t, POP_ERULE, "marriage-age",
                  "{'type':'marriage','a':'001207000024','b':'" LAN "'}");
        /* Age on the date of marriage, not today. */
        rt_refuse(t, POP_ERULE, "marriage-age",
                  "{'type':'marriage','a':'" HUNG "','b':'" LAN "','date':'2013-09-19'}");
        rt_do(t, "{'type':'marriage','a':'" HUNG "','b':'" LAN "','date':'2013-09-20'}");
}

/* marriage-same-sex: not recognised (LMF art. 8(2)). */
static void test_rule_marriage_same_sex(void **state)
{
        struct rt *t = *state;
        enrol(t, HUNG, "Phạm Văn Hùng", "1990-07-15", "male");
        enrol(t, DAD, "Trần Văn Nam", "1980-03-02", "male");
        enrol(t, MUM, "Lê Thị Mai", "1982-05-10", "female");
        enrol(t, LAN, "Nguyễn Thị Lan", "1995-09-20", "female");
        rt_refuse(t, POP_ERULE, "marriage-same-sex",
                  "{'type':'marriage','a':'" HUNG "','b':'" DAD "'}");
        rt_refuse(t, POP_ERULE, "marriage-same-sex",
                  "{'type':'marriage','a':'" LAN "','b':'" MUM "'}");
}

/* marriage-already-married: no one marries while married (LMF art. 5(2)(c)). */
static void test_rule_marriage_already_married(void **state)
{
        struct rt *t = *state;
        couple(t);
        enrol(t, HUNG, "Phạm Văn Hùng", "1990-07-15", "male");
        enrol(t, LAN, "Nguyễn Thị Lan", "1995-09-20", "female");
        rt_refuse(t, POP_ERULE, "marriage-already-married",
                  "{'type':'marriage','a':'" DAD "','b':'" LAN "'}");
        rt_refuse(t, POP_ERULE, "marriage-already-married",
                  "{'type':'marriage','a':'" HUNG "','b':'" MUM "'}");
        rt_refuse(t, POP_ERULE, "marriage-already-married",
                  "{'type':'marriage','a':'" DAD "','b':'" MUM "'}");
}

/*
 * marriage-kinship: not in the direct line (at any distance), nor within three generations: a
 * common parent or grandparent (LMF art. 3(17), 3(18), 5(2)(d)).
 *
 *   GGF (1930)
 *   ├── GF (1955), with GM (1957)
 *   │   ├── DAD (1980)
 *   │   │   ├── DAUGHTER (2004)
 *   │   │   └── SON (2005)
 *   │   ├── AUNT (1983)
 *   │   │   └── NIECE (2006)
 *   │   └── HALF (1985; father GF, mother unknown)
 *   └── GF2 (1958)
 *       └── YEN (1984)
 *           └── VY (2007)
 */
#define GGF      "001030000011"
#define GF       "001055000005"
#define GM       "001157000006"
#define GF2      "001058000012"
#define AUNT     "001183000007"
#define HALF     "001185000013"
#define YEN      "001184000016"
#define SON      "001205000010"
#define DAUGHTER "001304000014"
#define NIECE    "001306000015"
#define VY       "001307000017"

static void test_rule_marriage_kinship(void **state)
{
        struct rt *t = *state;
        enrol(t, GGF, "Trần Văn Tổ", "1930-01-01", "male");
        rt_do(t, "{'type':'enrol','pid':'" GF "','name':'Trần Văn Lộc','dob':'1955-01-01',"
                 "'sex':'male','father':'" GGF "'}");
        enrol(t, GM, "Đỗ Thị Hoa", "1957-02-02", "female");
        rt_do(t, "{'type':'enrol','pid':'" GF2 "','name':'Trần Văn Phúc','dob':'1958-03-03',"
                 "'sex':'male','father':'" GGF "'}");
        rt_do(t, "{'type':'enrol','pid':'" DAD "','name':'Trần Văn Nam','dob':'1980-03-02',"
                 "'sex':'male','father':'" GF "','mother':'" GM "'}");
        rt_do(t, "{'type':'enrol','pid':'" AUNT "','name':'Trần Thị Hà','dob':'1983-04-04',"
                 "'sex':'female','father':'" GF "','mother':'" GM "'}");
        rt_do(t, "{'type':'enrol','pid':'" HALF "','name':'Trần Thị Hằng','dob':'1985-05-05',"
                 "'sex':'female','father':'" GF "'}");
        rt_do(t, "{'type':'enrol','pid':'" YEN "','name':'Trần Thị Yến','dob':'1984-08-08',"
                 "'sex':'female','father':'" GF2 "'}");
        rt_do(t, "{'type':'enrol','pid':'" SON "','name':'Trần Văn Minh','dob':'2005-04-04',"
                 "'sex':'male','father':'" DAD "'}");
        rt_do(t, "{'type':'enrol','pid':'" DAUGHTER "','name':'Trần Thị Ngọc',"
                 "'dob':'2004-01-01','sex':'female','father':'" DAD "'}");
        rt_do(t, "{'type':'enrol','pid':'" NIECE "','name':'Vũ Thị Thu','dob':'2006-06-06',"
                 "'sex':'female','mother':'" AUNT "'}");
        rt_do(t, "{'type':'enrol','pid':'" VY "','name':'Lê Thị Vy','dob':'2007-07-07',"
                 "'sex':'female','mother':'" YEN "'}");

        static const char *const pairs[][2] = {
            {DAD, AUNT},     /* siblings */
            {DAD, HALF},     /* half-siblings: a common father */
            {GM, DAD},       /* mother and son */
            {GM, SON},       /* grandmother and grandson */
            {SON, NIECE},    /* first cousins: common grandparents */
            {DAD, NIECE},    /* uncle and niece */
            {GGF, DAUGHTER}, /* great-grandfather: the direct line has no limit */
            {DAUGHTER, GGF},
        };
        for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
                rt_refuse(t, POP_ERULE, "marriage-kinship", "{'type':'marriage','a':'%s','b':'%s'}",
                          pairs[i][0], pairs[i][1]);
        /* Second cousins (a common great-grandparent only) are beyond three generations. */
        rt_do(t, "{'type':'marriage','a':'" SON "','b':'" VY "'}");
}

/* divorce-not-married: only spouses divorce. */
static void test_rule_divorce_not_married(void **state)
{
        struct rt *t = *state;
        couple(t);
        enrol(t, HUNG, "Phạm Văn Hùng", "1990-07-15", "male");
        enrol(t, LAN, "Nguyễn Thị Lan", "1995-09-20", "female");
        rt_refuse(t, POP_ERULE, "divorce-not-married",
                  "{'type':'divorce','a':'" HUNG "','b':'" LAN "'}");
        rt_refuse(t, POP_ERULE, "divorce-not-married",
                  "{'type':'divorce','a':'" DAD "','b':'" LAN "'}");
        rt_do(t, "{'type':'marriage','a':'" HUNG "','b':'" LAN "'}");
        rt_refuse(t, POP_ERULE, "divorce-not-married",
                  "{'type':'divorce','a':'" DAD "','b':'" LAN "'}");
}

/* correction-empty: a correction changes something. */
static void test_rule_correction_empty(void **state)
{
        struct rt *t = *state;
        couple(t);
        rt_refuse(t, POP_EINVAL, "correction-empty", "{'type':'correction','pid':'" MUM "'}");
        rt_refuse(t, POP_EINVAL, "correction-empty",
                  "{'type':'correction','pid':'" MUM "','name':'Lê  Thị Mai',"
                  "'dob':'1982-05-10','sex':'female','ethnicity':'Kinh','nationality':'VNM'}");
        rt_refuse(t, POP_EINVAL, "correction-empty",
                  "{'type':'correction','pid':'" MUM "','religion':''}");
}

/* household-head-required: a head who dies or leaves names the member who takes over (LR art. 10).
 */
static void test_rule_household_head_required(void **state)
{
        struct rt *t = *state;
        couple(t);
        rt_refuse(t, POP_ERULE, "household-head-required", "{'type':'death','pid':'" DAD "'}");
        rt_refuse(t, POP_ERULE, "household-head-required",
                  "{'type':'residence.move','pid':'" DAD "','address':" ADDR_DN "}");
        rt_refuse(t, POP_ERULE, "household-head-required",
                  "{'type':'residence.deregister','pid':'" DAD "','reason':'emigrated'}");
}

/* household-head-not-member: the head lives in the household (LR art. 10(1)). */
static void test_rule_household_head_not_member(void **state)
{
        struct rt *t = *state;
        int64_t hh = couple(t);
        enrol_at(t, HUNG, "Phạm Văn Hùng", "1990-07-15", "male", ADDR_HCM);
        enrol(t, LAN, "Nguyễn Thị Lan", "1995-09-20", "female");
        rt_refuse(t, POP_ERULE, "household-head-not-member",
                  "{'type':'death','pid':'" DAD "','new_head':'" HUNG "'}");
        rt_refuse(t, POP_ERULE, "household-head-not-member",
                  "{'type':'residence.move','pid':'" DAD "','address':" ADDR_DN ","
                  "'new_head':'" LAN "'}");
        rt_refuse(t, POP_ERULE, "household-head-not-member",
                  "{'type':'household.head','household':%lld,'pid':'" HUNG "'}", (long long)hh);
        rt_refuse(t, POP_ERULE, "household-head-not-member",
                  "{'type':'household.head','household':%lld,'pid':'" LAN "'}", (long long)hh);
        /* A former member is not a member. */
        rt_do(t, "{'type':'residence.move','pid':'" MUM "','address':" ADDR_DN "}");
        rt_refuse(t, POP_ERULE, "household-head-not-member",
                  "{'type':'household.head','household':%lld,'pid':'" MUM "'}", (long long)hh);
}

/* household-head-minor: an adult heads the household while it has one (LR art. 10(1); CC art. 20).
 */
static void test_rule_household_head_minor(void **state)
{
        struct rt *t = *state;
        int64_t hh = couple(t);
        char kid[PID_LEN + 1];
        first_child(t, kid);
        rt_refuse(t, POP_ERULE, "household-head-minor",
                  "{'type':'household.head','household':%lld,'pid':'%s'}", (long long)hh, kid);
        rt_refuse(t, POP_ERULE, "household-head-minor",
                  "{'type':'death','pid':'" DAD "','new_head':'%s'}", kid);
        rt_refuse(t, POP_ERULE, "household-head-minor",
                  "{'type':'residence.move','pid':'" DAD "','address':" ADDR_DN ","
                  "'new_head':'%s'}",
                  kid);
}

/* household-head-same (events.c): the new head is not the current one. */
static void test_rule_household_head_same(void **state)
{
        struct rt *t = *state;
        int64_t hh = couple(t);
        rt_refuse(t, POP_ERULE, "household-head-same",
                  "{'type':'household.head','household':%lld,'pid':'" DAD "'}", (long long)hh);
}

/* household-dissolved: nobody joins a household that has no members left. */
static void test_rule_household_dissolved(void **state)
{
        struct rt *t = *state;
        int64_t hh = couple(t);
        int64_t gone = enrol_at(t, HUNG, "Phạm Văn Hùng", "1990-07-15", "male", ADDR_HCM);
        rt_do(t, "{'type':'residence.move','pid':'" HUNG "','household':%lld,'relation':'other'}",
              (long long)hh);
        enrol(t, LAN, "Nguyễn Thị Lan", "1995-09-20", "female");
        rt_refuse(t, POP_ERULE, "household-dissolved",
                  "{'type':'residence.register','pid':'" LAN "','household':%lld,"
                  "'relation':'other'}",
                  (long long)gone);
        rt_refuse(t, POP_ERULE, "household-dissolved",
                  "{'type':'residence.move','pid':'" MUM "','household':%lld,'relation':'other'}",
                  (long long)gone);
        rt_refuse(t, POP_ERULE, "household-dissolved",
                  "{'type':'birth','name':'Trần Văn B','dob':'2026-11-01','sex':'male',"
                  "'birth_province':'01','father':'" DAD "','household':%lld}",
                  (long long)gone);
}

/* household-not-found (events.c): a named household exists. */
static void test_rule_household_not_found(void **state)
{
        struct rt *t = *state;
        couple(t);
        enrol(t, LAN, "Nguyễn Thị Lan", "1995-09-20", "female");
        rt_refuse(t, POP_ENOTFOUND, "household-not-found",
                  "{'type':'residence.register','pid':'" LAN "','household':99,"
                  "'relation':'other'}");
        rt_refuse(t, POP_ENOTFOUND, "household-not-found",
                  "{'type':'household.head','household':99,'pid':'" LAN "'}");
        rt_refuse(t, POP_ENOTFOUND, "household-not-found",
                  "{'type':'enrol','pid':'" HUNG "','name':'Phạm Văn Hùng','dob':'1990',"
                  "'sex':'male','household':99,'relation':'other'}");
}

/* new-head-unexpected (events.c): new_head only where a head leaves others behind. */
static void test_rule_new_head_unexpected(void **state)
{
        struct rt *t = *state;
        couple(t);
        enrol(t, LAN, "Nguyễn Thị Lan", "1995-09-20", "female");
        enrol_at(t, HUNG, "Phạm Văn Hùng", "1990-07-15", "male", ADDR_HCM);
        rt_refuse(t, POP_EINVAL, "new-head-unexpected",
                  "{'type':'death','pid':'" MUM "','new_head':'" DAD "'}"); /* not the head */
        rt_refuse(t, POP_EINVAL, "new-head-unexpected",
                  "{'type':'death','pid':'" LAN "','new_head':'" DAD "'}"); /* no household */
        rt_refuse(t, POP_EINVAL, "new-head-unexpected",
                  "{'type':'death','pid':'" HUNG "','new_head':'" DAD "'}"); /* alone */
        /* residence.register has no such field at all. */
        rt_refuse(t, POP_EINVAL, "field-unknown",
                  "{'type':'residence.register','pid':'" LAN "','address':" ADDR_DN ","
                  "'new_head':'" DAD "'}");
        rt_refuse(t, POP_EINVAL, "new-head-unexpected",
                  "{'type':'residence.deregister','pid':'" MUM "','reason':'x',"
                  "'new_head':'" DAD "'}");
}

/* residence-exists, residence-none, residence-same: one permanent residence at a time; a new one
 * is a move (LR art. 20). */
static void test_rule_residence(void **state)
{
        struct rt *t = *state;
        int64_t hh = couple(t);
        enrol(t, LAN, "Nguyễn Thị Lan", "1995-09-20", "female");
        rt_refuse(t, POP_ERULE, "residence-exists",
                  "{'type':'residence.register','pid':'" MUM "','address':" ADDR_DN "}");
        rt_refuse(t, POP_ERULE, "residence-exists",
                  "{'type':'residence.register','pid':'" MUM "','household':%lld,"
                  "'relation':'spouse'}",
                  (long long)hh);
        rt_refuse(t, POP_ERULE, "residence-none",
                  "{'type':'residence.move','pid':'" LAN "','address':" ADDR_DN "}");
        rt_refuse(t, POP_ERULE, "residence-none",
                  "{'type':'residence.deregister','pid':'" LAN "','reason':'emigrated'}");
        rt_refuse(t, POP_ERULE, "residence-same",
                  "{'type':'residence.move','pid':'" MUM "','household':%lld,'relation':'spouse'}",
                  (long long)hh);
}

/* temporary-too-long: at most 2 years at a time (LR art. 27(3)). */
static void test_rule_temporary_too_long(void **state)
{
        struct rt *t = *state;
        couple(t);
        rt_refuse(t, POP_ERULE, "temporary-too-long",
                  "{'type':'temporary.register','pid':'" DAD "','address':" ADDR_DN ","
                  "'until':'2028-01-11','date':'2026-01-10'}");
        rt_do(t, "{'type':'temporary.register','pid':'" DAD "','address':" ADDR_DN ","
                 "'until':'2027-01-10','date':'2026-01-10'}");
        rt_refuse(t, POP_ERULE, "temporary-too-long",
                  "{'type':'temporary.extend','pid':'" DAD "','until':'2029-01-11'}");
        /* A 29 February start: two years end on 1 March. */
        rt_do(t, "{'type':'temporary.register','pid':'" MUM "','address':" ADDR_DN ","
                 "'until':'2026-03-01','date':'2024-02-29'}");
        rt_do(t, "{'type':'temporary.deregister','pid':'" MUM "','date':'2024-03-01'}");
        rt_refuse(t, POP_ERULE, "temporary-too-long",
                  "{'type':'temporary.register','pid':'" MUM "','address':" ADDR_DN ","
                  "'until':'2026-03-02','date':'2024-02-29'}");
}

/* temporary-same-commune: outside the commune of permanent residence (LR art. 27(1)). */
static void test_rule_temporary_same_commune(void **state)
{
        struct rt *t = *state;
        couple(t);
        rt_refuse(t, POP_ERULE, "temporary-same-commune",
                  "{'type':'temporary.register','pid':'" DAD "','until':'2027-01-01',"
                  "'address':{'province':'01','commune':'00004','line':'99 Bà Triệu'}}");
}

/* temporary-exists, temporary-none: one at a time; a lapsed one cannot be extended (LR art. 28). */
static void test_rule_temporary_exists_none(void **state)
{
        struct rt *t = *state;
        couple(t);
        rt_refuse(t, POP_ERULE, "temporary-none",
                  "{'type':'temporary.extend','pid':'" DAD "','until':'2027-01-01'}");
        rt_refuse(t, POP_ERULE, "temporary-none",
                  "{'type':'temporary.deregister','pid':'" DAD "'}");
        rt_do(t, "{'type':'temporary.register','pid':'" DAD "','address':" ADDR_DN ","
                 "'until':'2027-01-10','date':'2026-01-10'}");
        rt_refuse(t, POP_ERULE, "temporary-exists",
                  "{'type':'temporary.register','pid':'" DAD "','address':" ADDR_HCM ","
                  "'until':'2027-06-01'}");
        /* Lapsed: closing it as expired is part of the refused event, so it stays open. */
        rt_do(t, "{'type':'temporary.register','pid':'" MUM "','address':" ADDR_DN ","
                 "'until':'2024-01-01','date':'2023-01-01'}");
        rt_refuse(t, POP_ERULE, "temporary-none",
                  "{'type':'temporary.extend','pid':'" MUM "','until':'2027-01-01'}");
        rt_refuse(t, POP_ERULE, "temporary-none",
                  "{'type':'temporary.deregister','pid':'" MUM "'}");
}

/* card-not-citizen: cards are for Vietnamese citizens (LI art. 19). */
static void test_rule_card_not_citizen(void **state)
{
        struct rt *t = *state;
        rt_do(t, "{'type':'enrol','pid':'201095123456','name':'Nguyễn An','dob':'1995',"
                 "'sex':'male','nationality':'USA'}");
        rt_refuse(t, POP_ERULE, "card-not-citizen", "{'type':'card.issue','pid':'201095123456'}");
}

/* card-exists, card-none: one valid card at a time (LI art. 21-24). */
static void test_rule_card_exists_none(void **state)
{
        struct rt *t = *state;
        couple(t);
        rt_refuse(t, POP_ERULE, "card-none", "{'type':'card.renew','pid':'" DAD "'}");
        rt_refuse(t, POP_ERULE, "card-none", "{'type':'card.lost','pid':'" DAD "'}");
        rt_refuse(t, POP_ERULE, "card-none", "{'type':'card.revoke','pid':'" DAD "','reason':'x'}");
        rt_do(t, "{'type':'card.issue','pid':'" DAD "','date':'2024-02-01'}");
        rt_refuse(t, POP_ERULE, "card-exists", "{'type':'card.issue','pid':'" DAD "'}");
        rt_do(t, "{'type':'card.lost','pid':'" DAD "'}");
        rt_refuse(t, POP_ERULE, "card-none", "{'type':'card.lost','pid':'" DAD "'}");
        rt_refuse(t, POP_ERULE, "card-none", "{'type':'card.renew','pid':'" DAD "'}");
}

/* Malformed events (events.c): event-invalid, event-unknown-type, field-*, and the core
 * parsers' rules that a field carries. */
static void test_rule_malformed(void **state)
{
        struct rt *t = *state;
        int64_t hh = couple(t);
        rt_refuse(t, POP_EINVAL, "event-invalid", "[1,2,3]");
        rt_refuse(t, POP_EINVAL, "event-invalid", "'death'");
        rt_refuse(t, POP_EINVAL, "field-missing", "{'pid':'" DAD "'}");
        rt_refuse(t, POP_EINVAL, "field-missing", "{'type':7}");
        rt_refuse(t, POP_EINVAL, "event-unknown-type", "{'type':'adoption','pid':'" DAD "'}");
        rt_refuse(t, POP_EINVAL, "field-unknown",
                  "{'type':'death','pid':'" DAD "','colour':'blue'}");
        rt_refuse(t, POP_EINVAL, "field-unknown",
                  "{'type':'temporary.register','pid':'" DAD "','until':'2027-01-01',"
                  "'address':{'province':'48','commune':'20194','line':'x','zip':'1'}}");
        rt_refuse(t, POP_EINVAL, "field-missing", "{'type':'death'}");
        rt_refuse(t, POP_EINVAL, "field-missing", "{'type':'card.revoke','pid':'" DAD "'}");
        rt_refuse(t, POP_EINVAL, "field-missing",
                  "{'type':'temporary.register','pid':'" DAD "','until':'2027-01-01',"
                  "'address':{'province':'48','commune':'20194'}}");
        rt_refuse(t, POP_EINVAL, "field-missing", "{'type':'residence.register','pid':'" DAD "'}");
        rt_refuse(t, POP_EINVAL, "field-missing",
                  "{'type':'enrol','pid':'" HUNG "','name':'Phạm Văn Hùng','dob':'1990',"
                  "'sex':'male','household':%lld}",
                  (long long)hh);
        rt_refuse(t, POP_EINVAL, "field-type", "{'type':'death','pid':1080000001}");
        rt_refuse(t, POP_EINVAL, "field-type",
                  "{'type':'temporary.register','pid':'" DAD "','until':'2027-01-01',"
                  "'address':'48 Đà Nẵng'}");
        rt_refuse(t, POP_EINVAL, "field-type",
                  "{'type':'household.head','household':[1],'pid':'" MUM "'}");
        rt_refuse(t, POP_EINVAL, "field-conflict",
                  "{'type':'enrol','pid':'" HUNG "','name':'Phạm Văn Hùng','dob':'1990',"
                  "'sex':'male','household':%lld,'relation':'other','address':" ADDR_DN "}",
                  (long long)hh);
        rt_refuse(t, POP_EINVAL, "field-conflict",
                  "{'type':'enrol','pid':'" HUNG "','name':'Phạm Văn Hùng','dob':'1990',"
                  "'sex':'male','relation':'other','address':" ADDR_DN "}");
        rt_refuse(t, POP_EINVAL, "field-invalid",
                  "{'type':'enrol','pid':'" HUNG "','name':'Phạm Văn Hùng','dob':'1990',"
                  "'sex':'male','household':%lld,'relation':'lodger'}",
                  (long long)hh);
        rt_refuse(t, POP_EINVAL, "field-invalid",
                  "{'type':'household.head','household':'1x','pid':'" MUM "'}");
        rt_refuse(t, POP_EINVAL, "field-invalid",
                  "{'type':'household.head','household':0,'pid':'" MUM "'}");
        rt_refuse(t, POP_EINVAL, "field-invalid",
                  "{'type':'enrol','pid':'" HUNG "','name':'Phạm Văn Hùng','dob':'1990',"
                  "'sex':'male','nationality':'Vietnam'}");
        rt_refuse(t, POP_EINVAL, "field-invalid",
                  "{'type':'correction','pid':'" MUM "','nationality':'vn'}");
        rt_refuse(t, POP_EINVAL, "field-invalid",
                  "{'type':'marriage','a':'" DAD "','b':'" DAD "'}");
        rt_refuse(t, POP_EINVAL, "field-invalid",
                  "{'type':'temporary.register','pid':'" DAD "','address':" ADDR_DN ","
                  "'until':'2026-01-10','date':'2026-01-10'}");
        rt_do(t, "{'type':'temporary.register','pid':'" DAD "','address':" ADDR_DN ","
                 "'until':'2027-01-10','date':'2026-01-10'}");
        rt_refuse(t, POP_EINVAL, "field-invalid",
                  "{'type':'temporary.extend','pid':'" DAD "','until':'2027-01-10'}");
        /* Parsers' own rules, named with the field. */
        rt_refuse(t, POP_EINVAL, "sex-syntax",
                  "{'type':'enrol','pid':'" HUNG "','name':'Phạm Văn Hùng','dob':'1990',"
                  "'sex':'x'}");
        rt_refuse(t, POP_EINVAL, "date-day",
                  "{'type':'death','pid':'" MUM "','date':'2026-02-29'}");
        rt_refuse(t, POP_EINVAL, "date-incomplete",
                  "{'type':'death','pid':'" MUM "','date':'2026-02'}");
        rt_refuse(t, POP_EINVAL, "region-commune-syntax",
                  "{'type':'temporary.register','pid':'" MUM "','until':'2027-01-01',"
                  "'address':{'province':'48','commune':'2019','line':'x'}}");
        rt_refuse(t, POP_EINVAL, "region-province",
                  "{'type':'temporary.register','pid':'" MUM "','until':'2027-01-01',"
                  "'address':{'province':'03','commune':'20194','line':'x'}}");
        rt_refuse(t, POP_EINVAL, "region-province-syntax",
                  "{'type':'temporary.register','pid':'" MUM "','until':'2027-01-01',"
                  "'address':{'province':'xx','commune':'20194','line':'x'}}");
        struct pop_err err = {0};
        assert_int_equal(rt_try(t, &err,
                                "{'type':'enrol','pid':'" HUNG "','name':'Phạm Văn 9',"
                                "'dob':'1990','sex':'male'}"),
                         POP_EINVAL);
        assert_non_null(strstr(err.msg, "'name'"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
            T(test_enrol),
            T(test_birth),
            T(test_birth_household_choice),
            T(test_birth_posthumous),
            T(test_death),
            T(test_marriage),
            T(test_divorce),
            T(test_correction),
            T(test_residence_register),
            T(test_residence_move),
            T(test_residence_deregister),
            T(test_temporary_register),
            T(test_temporary_extend),
            T(test_temporary_deregister),
            T(test_household_head),
            T(test_household_on_date),
            T(test_card_issue_expiry),
            T(test_card_renew),
            T(test_card_lost),
            T(test_card_revoke),
            T(test_rule_pid_syntax),
            T(test_rule_pid_inconsistent),
            T(test_rule_person_exists),
            T(test_rule_person_not_found),
            T(test_rule_person_deceased),
            T(test_rule_date_future),
            T(test_rule_date_before_birth),
            T(test_rule_date_order),
            T(test_rule_parents),
            T(test_rule_parent_deceased),
            T(test_rule_ethnicity_required),
            T(test_rule_birth_household_required),
            T(test_rule_region_province_merged),
            T(test_rule_marriage_age),
            T(test_rule_marriage_same_sex),
            T(test_rule_marriage_already_married),
            T(test_rule_marriage_kinship),
            T(test_rule_divorce_not_married),
            T(test_rule_correction_empty),
            T(test_rule_household_head_required),
            T(test_rule_household_head_not_member),
            T(test_rule_household_head_minor),
            T(test_rule_household_head_same),
            T(test_rule_household_dissolved),
            T(test_rule_household_not_found),
            T(test_rule_new_head_unexpected),
            T(test_rule_residence),
            T(test_rule_temporary_too_long),
            T(test_rule_temporary_same_commune),
            T(test_rule_temporary_exists_none),
            T(test_rule_card_not_citizen),
            T(test_rule_card_exists_none),
            T(test_rule_malformed),
#undef T
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
