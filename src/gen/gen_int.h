/*
 * Internals shared by the generator's files: the shapes of the tables in gen_data.c (age
 * pyramid, provinces, ethnic groups and their names, religions, streets) that gen.c samples from.
 * All tables are read-only; weights are plain integers, only their ratios matter.
 */
#ifndef POP_GEN_GEN_INT_H
#define POP_GEN_GEN_INT_H

#include <stdint.h>

/* A string with a weight. */
struct gen_w {
        const char *s;
        uint32_t w;
};

/* A list of strings chosen with equal chance. */
struct gen_list {
        const char *const *v;
        uint32_t n;
};

/* A weighted list. */
struct gen_wlist {
        const struct gen_w *v;
        uint32_t n;
};

/* Five-year age groups 0-4 .. 95-99 and 100+ (read as 100-104). */
#define GEN_N_AGE_GROUPS 21
#define GEN_MAX_AGE      104

struct gen_age_group {
        uint32_t per_100k;  /* share of the whole population, per 100,000 */
        uint32_t sex_ratio; /* males per 100 females */
};
extern const struct gen_age_group gen__age_groups[GEN_N_AGE_GROUPS];

/* The six socio-economic regions of the statistics office, for naming, religion and ethnic mix. */
enum gen_region {
        GEN_RRD, /* Red River Delta */
        GEN_NMM, /* Northern Midlands and Mountains */
        GEN_NCC, /* North Central and Central Coast */
        GEN_CH,  /* Central Highlands */
        GEN_SE,  /* South East */
        GEN_MD,  /* Mekong Delta */
        GEN_N_REGIONS
};

/* Where the ethnic minorities of a province come from (indexes of gen__mixes). */
enum gen_mix {
        MIX_LOWLAND,
        MIX_NORTHEAST,
        MIX_NORTHWEST,
        MIX_MUONG,
        MIX_NGHEAN,
        MIX_BTT,
        MIX_SCC,
        MIX_HIGHLANDS,
        MIX_SOUTHEAST,
        MIX_MEKONG,
        GEN_N_MIXES
};

struct gen_province {
        int code;     /* GSO code of one of the 63 provinces before 1 July 2025 */
        uint32_t pop; /* census 2019 population */
        enum gen_region region;
        uint32_t kinh_permille; /* the Kinh share of its people, per mille (approximate) */
        enum gen_mix mix;
};
extern const struct gen_province gen__provinces[63];

/* How an ethnic group writes a full name. */
enum gen_style {
        STYLE_VIET,   /* surname, middle name(s), given name: Nguyễn Văn An */
        STYLE_EDE,    /* Ê Đê: Y (men) or H' (women), given name, then the surname: H'Hen Niê */
        STYLE_JRAI,   /* Gia Rai: surname, then the given name, H' before women's: Ksor H'Ble */
        STYLE_PREFIX, /* no family name; a prefix by sex and the given name: A Pớt, Y Liễu, K'Brel
                       */
};

struct gen_ethnic {
        const char *name;
        enum gen_style style;
        int matrilineal; /* children take the mother's family name (Ê Đê, Gia Rai) */
        struct gen_wlist surnames;
        /* Empty lists mean the Kinh lists (middle names by generation, given names). */
        struct gen_wlist middle_m, middle_f;
        struct gen_list given_m, given_f;
        const char *prefix_m, *prefix_f; /* STYLE_PREFIX */
};

#define GEN_KINH 0
extern const struct gen_ethnic gen__ethnic[];
extern const uint32_t gen__n_ethnic;

/* The minority groups of each mix, weighted by index into gen__ethnic. */
struct gen_mix_entry {
        uint32_t ethnic;
        uint32_t w;
};
struct gen_mix_list {
        const struct gen_mix_entry *v;
        uint32_t n;
};
extern const struct gen_mix_list gen__mixes[GEN_N_MIXES];

/* Kinh family names, in the north (before Huế) and the south, where Hoàng became Huỳnh and Vũ
 * became Võ. */
extern const struct gen_wlist gen__surnames_north, gen__surnames_south;

/* Kinh middle names by sex, for people born before 1985 and from 1985. */
extern const struct gen_wlist gen__middle_m_old, gen__middle_m_new, gen__middle_f_old,
    gen__middle_f_new;
/* A second middle name some young people carry: Nguyễn Hoàng Gia Bảo. */
extern const struct gen_list gen__middle2_m, gen__middle2_f;
extern const struct gen_list gen__given_m, gen__given_f;

/* Religions, per mille of people by region; the rest have none. */
#define GEN_N_RELIGIONS 5
extern const char *const gen__religions[GEN_N_RELIGIONS];
extern const uint32_t gen__religion_permille[GEN_N_REGIONS][GEN_N_RELIGIONS];

/* Street and place names for address lines. */
extern const struct gen_list gen__streets, gen__hamlets;

#endif
