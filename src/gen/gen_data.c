/*
 * The tables `popid gen` samples from: the age pyramid, the 63 provinces with their populations,
 * the ethnic groups and how they name their children, family, middle and given names, religions
 * and the words of address lines. Sources are cited above each table; where a figure is an
 * approximation of a published one, the comment says so. Every string is NFC (the unit test
 * checks each generated name with name_normalize).
 */
#include "gen/gen_int.h"

#define LIST(a)                                                                                    \
        {                                                                                          \
                a, sizeof a / sizeof a[0]                                                          \
        }
#define NOLIST                                                                                     \
        {                                                                                          \
                0, 0                                                                               \
        }

/*
 * Age and sex structure: the 2019 Population and Housing Census (GSO, "Completed results of the
 * 2019 Viet Nam Population and Housing Census", Statistical Publishing House, 2020, chapter 1 and
 * its population pyramid). The shares reproduce the census totals: 24.3% under 15, 68.0% aged
 * 15-64, 7.7% aged 65 and over, 11.9% aged 60 and over (ageing index 48.8); and 47,881,061 men
 * for 48,327,923 women, 99.1 men per 100 women (these ratios give 99.2). Within those bands the
 * split into five-year groups and the sex ratio of each group are read from the pyramid and are
 * approximate: boys outnumber girls by the sex ratio at birth (111.5 in 2019), women outnumber
 * men from the fifties on.
 */
const struct gen_age_group gen__age_groups[GEN_N_AGE_GROUPS] = {
    {8100, 111}, /* 0-4 */
    {8600, 110}, /* 5-9 */
    {7600, 109}, /* 10-14 */
    {7200, 107}, /* 15-19 */
    {7200, 104}, /* 20-24 */
    {8300, 102}, /* 25-29 */
    {8500, 101}, /* 30-34 */
    {7800, 100}, /* 35-39 */
    {7200, 99},  /* 40-44 */
    {6600, 98},  /* 45-49 */
    {6000, 95},  /* 50-54 */
    {5000, 92},  /* 55-59 */
    {4200, 87},  /* 60-64 */
    {3100, 82},  /* 65-69 */
    {1900, 75},  /* 70-74 */
    {1200, 66},  /* 75-79 */
    {800, 57},   /* 80-84 */
    {450, 48},   /* 85-89 */
    {180, 40},   /* 90-94 */
    {50, 33},    /* 95-99 */
    {20, 25},    /* 100+ */
};

/*
 * The 63 provinces in force until 30 June 2025 with their populations at the 2019 census (GSO,
 * "Completed results of the 2019 Viet Nam Population and Housing Census", table of population by
 * province; they add up to the national 96,208,984). The region is the statistics office's
 * socio-economic region. The Kinh share is an approximation of the census table of population by
 * ethnic group and province (nationally 85.3% Kinh; these give 85.6%), and the mix says which
 * minorities live there.
 */
const struct gen_province gen__provinces[63] = {
    {1, 8053663, GEN_RRD, 985, MIX_MUONG},      /* Hà Nội */
    {2, 854679, GEN_NMM, 120, MIX_NORTHEAST},   /* Hà Giang */
    {4, 530341, GEN_NMM, 50, MIX_NORTHEAST},    /* Cao Bằng */
    {6, 313905, GEN_NMM, 120, MIX_NORTHEAST},   /* Bắc Kạn */
    {8, 784811, GEN_NMM, 460, MIX_NORTHEAST},   /* Tuyên Quang */
    {10, 730420, GEN_NMM, 340, MIX_NORTHEAST},  /* Lào Cai */
    {11, 598856, GEN_NMM, 180, MIX_NORTHWEST},  /* Điện Biên */
    {12, 460196, GEN_NMM, 140, MIX_NORTHWEST},  /* Lai Châu */
    {14, 1248415, GEN_NMM, 160, MIX_NORTHWEST}, /* Sơn La */
    {15, 821030, GEN_NMM, 500, MIX_NORTHEAST},  /* Yên Bái */
    {17, 854131, GEN_NMM, 270, MIX_MUONG},      /* Hòa Bình */
    {19, 1286751, GEN_NMM, 720, MIX_NORTHEAST}, /* Thái Nguyên */
    {20, 781655, GEN_NMM, 160, MIX_NORTHEAST},  /* Lạng Sơn */
    {22, 1320324, GEN_RRD, 880, MIX_NORTHEAST}, /* Quảng Ninh */
    {24, 1803950, GEN_NMM, 870, MIX_NORTHEAST}, /* Bắc Giang */
    {25, 1463726, GEN_NMM, 820, MIX_MUONG},     /* Phú Thọ */
    {26, 1151154, GEN_RRD, 960, MIX_LOWLAND},   /* Vĩnh Phúc */
    {27, 1368840, GEN_RRD, 995, MIX_LOWLAND},   /* Bắc Ninh */
    {30, 1892254, GEN_RRD, 998, MIX_LOWLAND},   /* Hải Dương */
    {31, 2028514, GEN_RRD, 998, MIX_LOWLAND},   /* Hải Phòng */
    {33, 1252731, GEN_RRD, 995, MIX_LOWLAND},   /* Hưng Yên */
    {34, 1860447, GEN_RRD, 998, MIX_LOWLAND},   /* Thái Bình */
    {35, 852800, GEN_RRD, 998, MIX_LOWLAND},    /* Hà Nam */
    {36, 1780393, GEN_RRD, 998, MIX_LOWLAND},   /* Nam Định */
    {37, 982487, GEN_RRD, 980, MIX_MUONG},      /* Ninh Bình */
    {38, 3640128, GEN_NCC, 840, MIX_MUONG},     /* Thanh Hóa */
    {40, 3327791, GEN_NCC, 860, MIX_NGHEAN},    /* Nghệ An */
    {42, 1288866, GEN_NCC, 998, MIX_LOWLAND},   /* Hà Tĩnh */
    {44, 895430, GEN_NCC, 980, MIX_BTT},        /* Quảng Bình */
    {45, 632375, GEN_NCC, 880, MIX_BTT},        /* Quảng Trị */
    {46, 1128620, GEN_NCC, 970, MIX_BTT},       /* Thừa Thiên Huế */
    {48, 1134310, GEN_NCC, 995, MIX_BTT},       /* Đà Nẵng */
    {49, 1495812, GEN_NCC, 920, MIX_BTT},       /* Quảng Nam */
    {51, 1231697, GEN_NCC, 880, MIX_SCC},       /* Quảng Ngãi */
    {52, 1486918, GEN_NCC, 975, MIX_SCC},       /* Bình Định */
    {54, 872964, GEN_NCC, 950, MIX_SCC},        /* Phú Yên */
    {56, 1231107, GEN_NCC, 940, MIX_SCC},       /* Khánh Hòa */
    {58, 590467, GEN_NCC, 770, MIX_SCC},        /* Ninh Thuận */
    {60, 1230808, GEN_NCC, 920, MIX_SCC},       /* Bình Thuận */
    {62, 540438, GEN_CH, 460, MIX_HIGHLANDS},   /* Kon Tum */
    {64, 1513847, GEN_CH, 520, MIX_HIGHLANDS},  /* Gia Lai */
    {66, 1869322, GEN_CH, 650, MIX_HIGHLANDS},  /* Đắk Lắk */
    {67, 622168, GEN_CH, 680, MIX_HIGHLANDS},   /* Đắk Nông */
    {68, 1296906, GEN_CH, 760, MIX_HIGHLANDS},  /* Lâm Đồng */
    {70, 994679, GEN_SE, 810, MIX_SOUTHEAST},   /* Bình Phước */
    {72, 1169165, GEN_SE, 985, MIX_SOUTHEAST},  /* Tây Ninh */
    {74, 2426561, GEN_SE, 970, MIX_SOUTHEAST},  /* Bình Dương */
    {75, 3097107, GEN_SE, 920, MIX_SOUTHEAST},  /* Đồng Nai */
    {77, 1148313, GEN_SE, 970, MIX_SOUTHEAST},  /* Bà Rịa - Vũng Tàu */
    {79, 8993082, GEN_SE, 930, MIX_SOUTHEAST},  /* Thành phố Hồ Chí Minh */
    {80, 1688547, GEN_MD, 995, MIX_MEKONG},     /* Long An */
    {82, 1764185, GEN_MD, 998, MIX_MEKONG},     /* Tiền Giang */
    {83, 1288463, GEN_MD, 998, MIX_MEKONG},     /* Bến Tre */
    {84, 1009168, GEN_MD, 680, MIX_MEKONG},     /* Trà Vinh */
    {86, 1022791, GEN_MD, 975, MIX_MEKONG},     /* Vĩnh Long */
    {87, 1599504, GEN_MD, 998, MIX_MEKONG},     /* Đồng Tháp */
    {89, 1908352, GEN_MD, 935, MIX_MEKONG},     /* An Giang */
    {91, 1723067, GEN_MD, 860, MIX_MEKONG},     /* Kiên Giang */
    {92, 1235171, GEN_MD, 970, MIX_MEKONG},     /* Cần Thơ */
    {93, 733017, GEN_MD, 960, MIX_MEKONG},      /* Hậu Giang */
    {94, 1199653, GEN_MD, 640, MIX_MEKONG},     /* Sóc Trăng */
    {95, 907236, GEN_MD, 900, MIX_MEKONG},      /* Bạc Liêu */
    {96, 1194476, GEN_MD, 970, MIX_MEKONG},     /* Cà Mau */
};

/*
 * Kinh family names. The usual figures (surveys of family names cited in Vietnamese reference
 * works): Nguyễn about 38%, Trần 11%, Lê 9.5%, Phạm 7%, Hoàng/Huỳnh 5%, Phan 4.5%, Vũ/Võ 3.9%,
 * Đặng 2.1%, Bùi 2%, Đỗ 1.4%, Hồ 1.3%, Ngô 1.3%, Dương 1%, Lý 0.5%. Together they make 88.5%, more
 * than the Kinh share of the population (85%), so they cannot all hold for all people; the weights
 * lie between the two readings, which puts Nguyễn at about 37% of everyone and 43% of the Kinh,
 * and the others at about nine tenths of the figures above. Hoàng and Vũ were written Huỳnh and
 * Võ in the south (a naming taboo of the Nguyễn lords), which the two tables keep.
 */
#define KINH_COMMON                                                                                \
        {"Nguyễn", 5600}, {"Trần", 1480}, {"Lê", 1270}, {"Phạm", 950}, {"Phan", 600},              \
            {"Đặng", 260}, {"Bùi", 230}, {"Đỗ", 200}, {"Hồ", 160}, {"Ngô", 165}, {"Dương", 130},   \
            {"Lý", 56}, {"Đinh", 60}, {"Trương", 50}, {"Đoàn", 40}, {"Lâm", 30}, {"Mai", 30},      \
            {"Trịnh", 30}, {"Đào", 30}, {"Cao", 25}, {"Lưu", 20}, {"Hà", 20}, {"Tô", 15},          \
            {"Tạ", 15}, {"Châu", 15}, {"Lương", 15}, {"Kiều", 10}, {"Quách", 10}, {"Vương", 10},   \
            {"Phùng", 10}, {"Thái", 10}, {"Chu", 10}, {"Lại", 10}, {"Triệu", 10}, {"La", 5},       \
            {"Tăng", 5}, {"Khổng", 5}, {"Mạc", 5}, {"Nghiêm", 5}, {"Đàm", 5}, {"Diệp", 5},         \
            {"Giang", 5}, {"Từ", 5}, {"Âu", 5}, {"Thân", 5}, {"Tôn", 5}, {"Ông", 5}, {"Hứa", 5},   \
            {"Lục", 5}, {"Ninh", 5}, {"Đồng", 5}, {"Lã", 5}, {"Văn", 5}, {"Doãn", 5}, {"Cù", 3},   \
        {                                                                                          \
                "Âu Dương", 1                                                                      \
        }
static const struct gen_w surnames_north[] = {
    KINH_COMMON, {"Hoàng", 520}, {"Huỳnh", 80}, {"Vũ", 430}, {"Võ", 80},
};
static const struct gen_w surnames_south[] = {
    KINH_COMMON, {"Hoàng", 160}, {"Huỳnh", 440}, {"Vũ", 100}, {"Võ", 430},
};
const struct gen_wlist gen__surnames_north = LIST(surnames_north);
const struct gen_wlist gen__surnames_south = LIST(surnames_south);

/* Middle names: Văn and Thị mark sex and were nearly universal in older generations; younger
 * people carry a wider choice (GSO and press surveys of names by birth cohort; weights are
 * approximate). */
static const struct gen_w middle_m_old[] = {
    {"Văn", 5500}, {"Đức", 800},   {"Hữu", 700},  {"Minh", 600}, {"Quang", 500}, {"Công", 400},
    {"Ngọc", 300}, {"Thanh", 400}, {"Xuân", 300}, {"Đình", 400}, {"Trọng", 200}, {"Thế", 200},
    {"Mạnh", 100}, {"Quốc", 150},  {"Tiến", 100}, {"Viết", 100}, {"Bá", 100},    {"Duy", 100},
    {"Anh", 50},   {"Kim", 50},    {"Phú", 50},
};
static const struct gen_w middle_m_new[] = {
    {"Văn", 2000},  {"Minh", 1200}, {"Đức", 900},   {"Quang", 700}, {"Hoàng", 500}, {"Gia", 500},
    {"Tuấn", 300},  {"Thành", 300}, {"Anh", 400},   {"Hữu", 400},   {"Quốc", 400},  {"Ngọc", 200},
    {"Đăng", 300},  {"Bảo", 300},   {"Thanh", 300}, {"Trung", 200}, {"Nhật", 300},  {"Duy", 300},
    {"Khánh", 200}, {"Tiến", 100},  {"Công", 200},  {"Xuân", 100},  {"Thái", 100},  {"Thiên", 100},
};
static const struct gen_w middle_f_old[] = {
    {"Thị", 7500}, {"Ngọc", 500},   {"Thu", 400},  {"Thanh", 400}, {"Kim", 300},
    {"Minh", 150}, {"Hồng", 300},   {"Bích", 150}, {"Xuân", 200},  {"Mỹ", 150},
    {"Hoài", 100}, {"Phương", 100}, {"Thúy", 100}, {"Diệu", 50},   {"Tuyết", 50},
};
static const struct gen_w middle_f_new[] = {
    {"Thị", 2500},  {"Ngọc", 900}, {"Thu", 500},  {"Thanh", 400}, {"Minh", 500}, {"Phương", 400},
    {"Khánh", 400}, {"Bảo", 400},  {"Hoài", 200}, {"Mai", 300},   {"Diệu", 200}, {"Kim", 200},
    {"Thùy", 300},  {"Hà", 200},   {"Gia", 200},  {"Quỳnh", 200}, {"Tuệ", 100},  {"Huyền", 100},
    {"Hồng", 100},  {"Yến", 100},  {"Lan", 100},  {"Như", 200},   {"Thảo", 200}, {"Vân", 100},
};
const struct gen_wlist gen__middle_m_old = LIST(middle_m_old);
const struct gen_wlist gen__middle_m_new = LIST(middle_m_new);
const struct gen_wlist gen__middle_f_old = LIST(middle_f_old);
const struct gen_wlist gen__middle_f_new = LIST(middle_f_new);

static const char *const middle2_m[] = {"Gia",  "Minh",  "Bảo",   "Đăng", "Hoàng", "Anh",
                                        "Quốc", "Khánh", "Thiên", "Phúc", "Nhật",  "Tuấn"};
static const char *const middle2_f[] = {"Bảo",  "Ngọc", "Khánh", "Gia",  "Minh",  "Phương",
                                        "Thảo", "Tuệ",  "Hoài",  "Diệu", "Thanh", "Quỳnh"};
const struct gen_list gen__middle2_m = LIST(middle2_m);
const struct gen_list gen__middle2_f = LIST(middle2_f);

/* Given names, equally likely within a sex (common names from Vietnamese name lists). */
static const char *const given_m[] = {
    "An",    "Anh",   "Bách",  "Bảo",    "Bằng",   "Bình",  "Cảnh",  "Chiến", "Chính", "Công",
    "Cương", "Cường", "Danh",  "Doanh",  "Du",     "Dũng",  "Duy",   "Dương", "Đại",   "Đan",
    "Đạt",   "Điền",  "Điệp",  "Định",   "Đông",   "Đức",   "Giang", "Giáp",  "Hà",    "Hải",
    "Hào",   "Hảo",   "Hậu",   "Hiển",   "Hiệp",   "Hiếu",  "Hoan",  "Hòa",   "Hoài",  "Hoàng",
    "Hồng",  "Huân",  "Huấn",  "Hùng",   "Hưng",   "Huy",   "Hợp",   "Kha",   "Khải",  "Khang",
    "Khánh", "Khiêm", "Khoa",  "Khôi",   "Khương", "Kiên",  "Kiệt",  "Kỳ",    "Lâm",   "Lân",
    "Lập",   "Lĩnh",  "Long",  "Lộc",    "Lợi",    "Luân",  "Luật",  "Lực",   "Mạnh",  "Mẫn",
    "Minh",  "Nam",   "Nghĩa", "Nguyên", "Nhân",   "Nhật",  "Ninh",  "Phát",  "Phi",   "Phong",
    "Phú",   "Phúc",  "Phước", "Phương", "Quang",  "Quảng", "Quân",  "Quốc",  "Quý",   "Quyết",
    "Sang",  "Sáng",  "Sơn",   "Sỹ",     "Tài",    "Tâm",   "Tân",   "Thái",  "Thắng", "Thanh",
    "Thành", "Thạch", "Thiện", "Thịnh",  "Thọ",    "Thông", "Thuận", "Thức",  "Tiến",  "Tiệp",
    "Tín",   "Toàn",  "Toản",  "Trí",    "Triết",  "Triều", "Trình", "Trọng", "Trung", "Trường",
    "Tú",    "Tuân",  "Tuấn",  "Tuệ",    "Tùng",   "Tư",    "Tường", "Uy",    "Vĩnh",  "Vinh",
    "Việt",  "Vũ",    "Vương", "Vỹ",     "Xuân",
};
static const char *const given_f[] = {
    "An",    "Anh",   "Ánh",   "Bảo",   "Bích",   "Bình",   "Cẩm",    "Châm",  "Châu",  "Chi",
    "Cúc",   "Diễm",  "Diệp",  "Diệu",  "Dịu",    "Dung",   "Duyên",  "Đan",   "Đào",   "Gấm",
    "Giang", "Hà",    "Hạ",    "Hải",   "Hân",    "Hằng",   "Hạnh",   "Hảo",   "Hậu",   "Hiền",
    "Hoa",   "Hòa",   "Hoài",  "Hồng",  "Huế",    "Huệ",    "Hương",  "Hường", "Huyền", "Khánh",
    "Khuê",  "Kiều",  "Kim",   "Lam",   "Lan",    "Lành",   "Lệ",     "Liên",  "Liễu",  "Linh",
    "Loan",  "Lụa",   "Ly",    "Lý",    "Mai",    "Mận",    "Minh",   "Mơ",    "My",    "Mỹ",
    "Na",    "Nga",   "Ngà",   "Ngân",  "Nghi",   "Ngọc",   "Nguyệt", "Nhàn",  "Nhạn",  "Nhi",
    "Nhung", "Như",   "Nương", "Oanh",  "Phượng", "Phương", "Quế",    "Quyên", "Quỳnh", "San",
    "Sen",   "Sương", "Tâm",   "Thanh", "Thảo",   "Thắm",   "Thêu",   "Thơ",   "Thoa",  "Thu",
    "Thục",  "Thùy",  "Thủy",  "Thư",   "Thương", "Tiên",   "Trà",    "Trâm",  "Trang", "Trinh",
    "Trúc",  "Tú",    "Tuyết", "Tuyền", "Tươi",   "Uyên",   "Vân",    "Vi",    "Việt",  "Vy",
    "Xoan",  "Xuân",  "Yên",   "Yến",
};
const struct gen_list gen__given_m = LIST(given_m);
const struct gen_list gen__given_f = LIST(given_f);

/*
 * Ethnic minorities: family names common in each group and, where a group does not use the Kinh
 * pattern, its own (from ethnographic descriptions of naming: the Hmong "A" for men, the Ê Đê "Y"
 * and "H'" prefixes with the matrilineal family name last, the Gia Rai order, Khmer names).
 * Weights are approximate.
 */
static const struct gen_w sn_tay[] = {
    {"Hoàng", 20}, {"Nông", 18}, {"Lương", 10}, {"Hà", 8}, {"Ma", 6},     {"Lục", 5},  {"Triệu", 5},
    {"Vi", 5},     {"Bế", 5},    {"Lý", 5},     {"La", 4}, {"Nguyễn", 5}, {"Mông", 4},
};
static const struct gen_w sn_nung[] = {
    {"Hoàng", 25}, {"Nông", 15}, {"Lương", 10}, {"Lục", 8}, {"Mã", 8}, {"Vi", 6},
    {"Chu", 6},    {"Lý", 6},    {"Triệu", 6},  {"Hứa", 5}, {"Vy", 5},
};
static const struct gen_w sn_thai[] = {
    {"Lò", 25}, {"Cầm", 12}, {"Lường", 12}, {"Quàng", 10}, {"Vi", 8}, {"Hà", 10},
    {"Lê", 6},  {"Tòng", 6}, {"Điêu", 5},   {"Mè", 3},     {"Lự", 3},
};
static const struct gen_w sn_muong[] = {
    {"Bùi", 35}, {"Đinh", 25}, {"Quách", 10}, {"Hà", 10},
    {"Xa", 5},   {"Bạch", 5},  {"Nguyễn", 5}, {"Trương", 5},
};
static const struct gen_w sn_hmong[] = {
    {"Giàng", 20}, {"Sùng", 15}, {"Vàng", 15}, {"Thào", 12}, {"Hầu", 8},
    {"Lý", 8},     {"Mùa", 8},   {"Tráng", 6}, {"Ly", 4},    {"Sình", 4},
};
static const struct gen_w mid_m_hmong[] = {{"A", 60}, {"Seo", 15}, {"Văn", 25}};
static const struct gen_w mid_f_hmong[] = {{"Thị", 80}, {"Mí", 20}};
static const char *const gv_m_hmong[] = {"Páo",   "Sử",   "Chứ", "Dế",  "Lử",   "Pó",
                                         "Chính", "Dình", "Tủa", "Của", "Sáng", "Dũng"};
static const char *const gv_f_hmong[] = {"Mỷ",   "Dợ", "Súa", "Mai", "Cở",  "Máy",
                                         "Dinh", "Pà", "Sua", "Chở", "Dua", "Lan"};
static const struct gen_w sn_dao[] = {
    {"Triệu", 30}, {"Bàn", 20}, {"Đặng", 15}, {"Lý", 15}, {"Phùng", 8}, {"Chảo", 6}, {"Tẩn", 6},
};
static const struct gen_w mid_m_dao[] = {
    {"Văn", 50}, {"Tòn", 15}, {"Láo", 15}, {"Quẩy", 10}, {"A", 10}};
static const struct gen_w mid_f_dao[] = {{"Thị", 70}, {"Mùi", 10}, {"Xuân", 10}, {"Mẩy", 10}};
static const struct gen_w sn_khmer[] = {
    {"Thạch", 25}, {"Sơn", 20}, {"Kim", 15}, {"Danh", 15},
    {"Lâm", 8},    {"Châu", 7}, {"Lý", 5},   {"Chau", 5},
};
static const struct gen_w mid_m_khmer[] = {{"", 80}, {"Văn", 20}};
static const struct gen_w mid_f_khmer[] = {{"Thị", 60}, {"", 40}};
static const char *const gv_m_khmer[] = {"Sô Phanh", "Sa Rin", "Sóc",    "Phol",   "Chanh",
                                         "Đa Ra",    "Sang",   "Rây",    "Thươl",  "Sa Mol",
                                         "Út",       "Sơ Ka",  "Pha Ly", "Sa Vát", "Hên"};
static const char *const gv_f_khmer[] = {"Sa Ri", "Sô Phi", "Thi Da",   "Sà Rương", "Chanh Thu",
                                         "Mây",   "Ni Na",  "Sô Khum",  "Đa Ny",    "Sa Vy",
                                         "Mum",   "Sa Rắt", "Sóc Khum", "Phá Ly",   "Kim Thoa"};
static const struct gen_w sn_hoa[] = {
    {"Lâm", 15}, {"Trương", 12}, {"Lý", 12}, {"Quách", 8}, {"Tăng", 6}, {"Mã", 6},
    {"Hứa", 6},  {"Diệp", 6},    {"Lưu", 6}, {"Huỳnh", 8}, {"Trần", 8}, {"Hoàng", 7},
};
static const struct gen_w sn_jrai[] = {
    {"Ksor", 25}, {"Rơ Mah", 20}, {"Siu", 20}, {"Rơ Châm", 10},
    {"Kpă", 10},  {"Nay", 10},    {"Puih", 5},
};
static const char *const gv_m_jrai[] = {"Phun",  "Blih", "Thuấn", "Hoa", "Nhâm",
                                        "Krông", "Dơng", "Yan",   "Đin", "Tuk"};
static const char *const gv_f_jrai[] = {"Ble",  "Hen", "Lan", "Nhi",  "Mai",
                                        "Ngơn", "Yơn", "Biơ", "Loan", "Dơ"};
static const struct gen_w sn_ede[] = {
    {"Niê", 25}, {"Mlô", 15},   {"Êban", 15}, {"Ayun", 10}, {"Byă", 10},
    {"Knul", 8}, {"Adrơng", 8}, {"Ksơr", 5},  {"Hwing", 4},
};
static const char *const gv_m_ede[] = {"Moan", "Sơn", "Thanh", "Blơk", "Ngông",
                                       "Ben",  "Jôk", "Khoa",  "Đhăm", "Wai"};
static const char *const gv_f_ede[] = {"Hen", "Linh", "Ni",   "Mai",  "Bia",
                                       "Ruy", "Lan",  "Juel", "Xuân", "Hiền"};
static const char *const gv_m_bana[] = {"Pớt",   "Sanh", "Jar",   "Thiêng", "Hùng",
                                        "Nhong", "Đốc",  "Khiêm", "Blưh",   "Kơr"};
static const char *const gv_f_bana[] = {"Liễu",  "Nhiên", "Hơn",  "Lim",  "Nga",
                                        "Duyên", "Bông",  "Ngọc", "Hlin", "Bih"};
static const char *const gv_m_coho[] = {"Brel", "Điệu", "Biên", "Hoa",  "Krăng",
                                        "Sớ",   "Dũng", "Tiếp", "Bình", "Lâm"};
static const char *const gv_f_coho[] = {"Dung",  "Hoa", "Bích", "Ngọc", "Điệp",
                                        "Sương", "Lan", "Thị",  "Xuân", "Brang"};
static const struct gen_w sn_sanchay[] = {{"Hoàng", 25}, {"Lâm", 20},  {"La", 15},
                                          {"Đàm", 15},   {"Nịnh", 10}, {"Lương", 15}};
static const struct gen_w sn_sandiu[] = {{"Nguyễn", 25}, {"Trần", 15}, {"Lý", 15},
                                         {"Tạ", 15},     {"Diệp", 15}, {"Đặng", 15}};
static const struct gen_w sn_giay[] = {
    {"Hoàng", 30}, {"Lù", 20}, {"Sần", 20}, {"Vàng", 15}, {"Lò", 15}};
static const struct gen_w sn_khmu[] = {{"Vi", 25},  {"Lò", 20},   {"Cụt", 15},
                                       {"Lầu", 15}, {"Xồng", 15}, {"Lo", 10}};
static const struct gen_w sn_bru[] = {{"Hồ", 60}, {"Lê", 10}, {"Kăn", 10}, {"Pả", 10}, {"Hôi", 10}};
static const struct gen_w sn_taoi[] = {
    {"Hồ", 40}, {"Lê", 15}, {"Kăn", 15}, {"Căn", 15}, {"Pả", 15}};
static const struct gen_w sn_cotu[] = {
    {"Bhling", 15}, {"Alăng", 20}, {"Zơ Râm", 15},   {"Bh'riu", 15},
    {"Ating", 15},  {"Clâu", 10},  {"Pơ Loong", 10},
};
static const struct gen_w sn_hre[] = {{"Đinh", 60}, {"Phạm", 25}, {"Huỳnh", 5}, {"Hồ", 10}};
static const struct gen_w sn_cham[] = {
    {"Đàng", 20},   {"Thông", 15}, {"Lưu", 10}, {"Thiên", 10}, {"Châu", 10},
    {"Trượng", 10}, {"Quảng", 10}, {"Ka", 5},   {"Từ", 10},
};
static const struct gen_w sn_raglai[] = {
    {"Chamaléa", 40}, {"Katơr", 20}, {"Pi Năng", 20}, {"Mang", 10}, {"Bo Bo", 10}};
static const struct gen_w sn_mnong[] = {{"Điểu", 60}, {"Nguyễn", 20}, {"Lê", 20}};
static const struct gen_w sn_xtieng[] = {{"Điểu", 70}, {"Lâm", 10}, {"Hồ", 10}, {"Nguyễn", 10}};
static const struct gen_w sn_choro[] = {{"Đào", 30}, {"Điểu", 30}, {"Lê", 20}, {"Thổ", 20}};

#define VIET(n, sn)                                                                                \
        {                                                                                          \
                n, STYLE_VIET, 0, LIST(sn), NOLIST, NOLIST, NOLIST, NOLIST, 0, 0                   \
        }

const struct gen_ethnic gen__ethnic[] = {
    /* GEN_KINH: the lists are chosen by region and generation in gen.c */
    {"Kinh", STYLE_VIET, 0, NOLIST, NOLIST, NOLIST, NOLIST, NOLIST, 0, 0},
    VIET("Tày", sn_tay),
    VIET("Thái", sn_thai),
    VIET("Mường", sn_muong),
    {"H'Mông", STYLE_VIET, 0, LIST(sn_hmong), LIST(mid_m_hmong), LIST(mid_f_hmong),
     LIST(gv_m_hmong), LIST(gv_f_hmong), 0, 0},
    {"Khmer", STYLE_VIET, 0, LIST(sn_khmer), LIST(mid_m_khmer), LIST(mid_f_khmer), LIST(gv_m_khmer),
     LIST(gv_f_khmer), 0, 0},
    VIET("Nùng", sn_nung),
    VIET("Hoa", sn_hoa),
    {"Dao", STYLE_VIET, 0, LIST(sn_dao), LIST(mid_m_dao), LIST(mid_f_dao), NOLIST, NOLIST, 0, 0},
    {"Gia Rai", STYLE_JRAI, 1, LIST(sn_jrai), NOLIST, NOLIST, LIST(gv_m_jrai), LIST(gv_f_jrai), 0,
     0},
    {"Ê Đê", STYLE_EDE, 1, LIST(sn_ede), NOLIST, NOLIST, LIST(gv_m_ede), LIST(gv_f_ede), 0, 0},
    {"Ba Na", STYLE_PREFIX, 0, NOLIST, NOLIST, NOLIST, LIST(gv_m_bana), LIST(gv_f_bana), "A ",
     "Y "},
    VIET("Sán Chay", sn_sanchay),
    VIET("Chăm", sn_cham),
    {"Cơ Ho", STYLE_PREFIX, 0, NOLIST, NOLIST, NOLIST, LIST(gv_m_coho), LIST(gv_f_coho), "K'",
     "Ka "},
    {"Xơ Đăng", STYLE_PREFIX, 0, NOLIST, NOLIST, NOLIST, LIST(gv_m_bana), LIST(gv_f_bana), "A ",
     "Y "},
    VIET("Sán Dìu", sn_sandiu),
    VIET("Hrê", sn_hre),
    VIET("Ra Glai", sn_raglai),
    VIET("Mnông", sn_mnong),
    VIET("Xtiêng", sn_xtieng),
    VIET("Khơ Mú", sn_khmu),
    VIET("Bru-Vân Kiều", sn_bru),
    VIET("Cơ Tu", sn_cotu),
    VIET("Giáy", sn_giay),
    VIET("Tà Ôi", sn_taoi),
    VIET("Chơ Ro", sn_choro),
};
const uint32_t gen__n_ethnic = sizeof gen__ethnic / sizeof gen__ethnic[0];

enum {
        E_KINH,
        E_TAY,
        E_THAI,
        E_MUONG,
        E_HMONG,
        E_KHMER,
        E_NUNG,
        E_HOA,
        E_DAO,
        E_JRAI,
        E_EDE,
        E_BANA,
        E_SANCHAY,
        E_CHAM,
        E_COHO,
        E_XODANG,
        E_SANDIU,
        E_HRE,
        E_RAGLAI,
        E_MNONG,
        E_XTIENG,
        E_KHMU,
        E_BRU,
        E_COTU,
        E_GIAY,
        E_TAOI,
        E_CHORO,
        E_COUNT
};
_Static_assert(E_COUNT == sizeof gen__ethnic / sizeof gen__ethnic[0], "one enum per group");

/* The minorities of each kind of province (approximate, from the census table of ethnic groups
 * by province). */
static const struct gen_mix_entry mix_lowland[] = {
    {E_MUONG, 30}, {E_TAY, 25}, {E_HOA, 20}, {E_NUNG, 15}, {E_THAI, 10}};
static const struct gen_mix_entry mix_northeast[] = {{E_TAY, 35}, {E_NUNG, 22},   {E_HMONG, 17},
                                                     {E_DAO, 15}, {E_SANCHAY, 5}, {E_SANDIU, 4},
                                                     {E_GIAY, 2}};
static const struct gen_mix_entry mix_northwest[] = {{E_THAI, 55}, {E_HMONG, 30}, {E_KHMU, 5},
                                                     {E_DAO, 5},   {E_MUONG, 3},  {E_GIAY, 2}};
static const struct gen_mix_entry mix_muong[] = {
    {E_MUONG, 70}, {E_THAI, 18}, {E_DAO, 6}, {E_HMONG, 3}, {E_TAY, 3}};
static const struct gen_mix_entry mix_nghean[] = {
    {E_THAI, 72}, {E_KHMU, 12}, {E_HMONG, 8}, {E_MUONG, 8}};
static const struct gen_mix_entry mix_btt[] = {{E_BRU, 45}, {E_TAOI, 25}, {E_COTU, 30}};
static const struct gen_mix_entry mix_scc[] = {
    {E_HRE, 25}, {E_CHAM, 35}, {E_RAGLAI, 25}, {E_BANA, 10}, {E_EDE, 5}};
static const struct gen_mix_entry mix_highlands[] = {{E_JRAI, 30},  {E_EDE, 22}, {E_BANA, 13},
                                                     {E_XODANG, 9}, {E_COHO, 9}, {E_MNONG, 6},
                                                     {E_NUNG, 6},   {E_TAY, 5}};
static const struct gen_mix_entry mix_southeast[] = {
    {E_HOA, 55}, {E_XTIENG, 12}, {E_KHMER, 12}, {E_NUNG, 8}, {E_TAY, 6}, {E_CHORO, 4}, {E_CHAM, 3}};
static const struct gen_mix_entry mix_mekong[] = {{E_KHMER, 85}, {E_HOA, 12}, {E_CHAM, 3}};

const struct gen_mix_list gen__mixes[GEN_N_MIXES] = {
    [MIX_LOWLAND] = LIST(mix_lowland),
    [MIX_NORTHEAST] = LIST(mix_northeast),
    [MIX_NORTHWEST] = LIST(mix_northwest),
    [MIX_MUONG] = LIST(mix_muong),
    [MIX_NGHEAN] = LIST(mix_nghean),
    [MIX_BTT] = LIST(mix_btt),
    [MIX_SCC] = LIST(mix_scc),
    [MIX_HIGHLANDS] = LIST(mix_highlands),
    [MIX_SOUTHEAST] = LIST(mix_southeast),
    [MIX_MEKONG] = LIST(mix_mekong),
};

/*
 * Religions: the 2019 census counted 13.2% of people with a religion, mostly Catholics (6.1%),
 * Buddhists (4.8%), Hòa Hảo (1.0%), Protestants (1.0%) and Cao Đài (0.6%), unevenly by region (Hòa
 * Hảo in the Mekong Delta, Cao Đài around Tây Ninh, Protestants among highland minorities).
 * Per mille by region, approximate; everyone else has none (an empty field).
 */
const char *const gen__religions[GEN_N_RELIGIONS] = {"Công giáo", "Phật giáo", "Tin lành",
                                                     "Cao đài", "Phật giáo Hòa Hảo"};
const uint32_t gen__religion_permille[GEN_N_REGIONS][GEN_N_RELIGIONS] = {
    [GEN_RRD] = {50, 25, 1, 0, 0},  [GEN_NMM] = {10, 5, 35, 0, 0},   [GEN_NCC] = {70, 50, 3, 3, 0},
    [GEN_CH] = {110, 50, 90, 5, 0}, [GEN_SE] = {110, 80, 10, 20, 0}, [GEN_MD] = {30, 90, 3, 20, 55},
};

static const char *const streets[] = {
    "Lê Lợi",
    "Trần Hưng Đạo",
    "Nguyễn Trãi",
    "Hai Bà Trưng",
    "Quang Trung",
    "Lý Thường Kiệt",
    "Phan Chu Trinh",
    "Điện Biên Phủ",
    "Hùng Vương",
    "Nguyễn Huệ",
    "Lê Duẩn",
    "Võ Thị Sáu",
    "Nguyễn Du",
    "Phan Bội Châu",
    "Trần Phú",
    "Lê Lai",
    "Nguyễn Văn Cừ",
    "Cách Mạng Tháng Tám",
    "Bà Triệu",
    "Lạc Long Quân",
    "Âu Cơ",
    "Ngô Quyền",
    "Lý Thái Tổ",
    "Trần Quang Khải",
    "Nguyễn Thị Minh Khai",
    "Hoàng Diệu",
    "Phạm Văn Đồng",
    "Võ Văn Kiệt",
    "Tôn Đức Thắng",
    "Nguyễn Văn Linh",
    "Lê Hồng Phong",
    "Nguyễn Chí Thanh",
    "Hoàng Hoa Thám",
    "Đinh Tiên Hoàng",
    "Lê Thánh Tông",
    "Trường Chinh",
    "Giải Phóng",
    "Độc Lập",
    "Thống Nhất",
    "Yersin",
    "Pasteur",
    "Hàng Bạc",
    "Hàng Đào",
    "Kim Mã",
    "Xuân Thủy",
    "Cầu Giấy",
    "Láng Hạ",
    "Nam Kỳ Khởi Nghĩa",
    "Ba Tháng Hai",
    "Mậu Thân",
};
static const char *const hamlets[] = {
    "Đông",       "Tây",      "Nam",       "Bắc",      "Thượng",     "Hạ",         "Trung",
    "Phú Mỹ",     "An Bình",  "Tân Lập",   "Hòa Bình", "Thành Công", "Quyết Tiến", "Đồng Tâm",
    "Tiền Phong", "Bình An",  "Phước Lợi", "Long Hòa", "Mỹ Thạnh",   "Tân Phú",    "Vĩnh Lộc",
    "Hưng Thịnh", "Đoàn Kết", "Thắng Lợi", "Cầu Đá",   "Bến Đò",     "Gò Gạch",    "Rạch Sỏi",
    "Kênh Xáng",  "Na Hang",  "Khuổi Nặm", "Pác Bó",   "Ea Tu",      "Plei Ku",    "Kon Klor",
};
const struct gen_list gen__streets = LIST(streets);
const struct gen_list gen__hamlets = LIST(hamlets);
