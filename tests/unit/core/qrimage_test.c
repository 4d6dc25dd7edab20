/*
 * Unit tests of src/core/qrimage.c: QR symbols through libqrencode, rendered as PNG and as
 * terminal text. The PNG is read back with libpng and compared pixel by pixel with the module
 * matrix (size, 1-bit grayscale, quiet zone, scale); the terminal text is decoded back into
 * modules from its half blocks. Also: versions grow with the data, the level-M capacity limit,
 * empty input and bad scales are refused.
 */
#include "testutil.h"

#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "core/qrimage.h"

static struct qrimg encode(const char *s)
{
        struct qrimg q;
        struct pop_err err = {0};
        assert_int_equal(qrimg_encode(s, strlen(s), &q, &err), 0);
        assert_int_equal(q.width, 17 + 4 * q.version);
        return q;
}

struct reader {
        const unsigned char *p;
        size_t len, off;
};

static void read_mem(png_structp png, png_bytep out, size_t n)
{
        struct reader *r = png_get_io_ptr(png);
        if (r->off + n > r->len)
                png_error(png, "short read");
        memcpy(out, r->p + r->off, n);
        r->off += n;
}

static void test_png(void **state)
{
        (void)state;
        struct qrimg q = encode("eyJhbGciOiJFUzI1NiJ9.eyJ0IjoiaWQxIn0.signature");
        for (int scale = 1; scale <= 8; scale += 7) {
                unsigned char *png = NULL;
                size_t len = 0;
                struct pop_err err = {0};
                assert_int_equal(qrimg_png(&q, scale, &png, &len, &err), 0);
                assert_true(len > 8);
                assert_int_equal(png_sig_cmp(png, 0, 8), 0);

                png_structp rd = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
                png_infop info = png_create_info_struct(rd);
                struct reader r = {png, len, 0};
                png_set_read_fn(rd, &r, read_mem);
                png_read_info(rd, info);
                const int side = (q.width + 2 * QRIMG_QUIET) * scale;
                assert_int_equal(png_get_image_width(rd, info), side);
                assert_int_equal(png_get_image_height(rd, info), side);
                assert_int_equal(png_get_bit_depth(rd, info), 1);
                assert_int_equal(png_get_color_type(rd, info), PNG_COLOR_TYPE_GRAY);
                png_set_packing(rd); /* one byte per pixel: 0 black, 1 white */
                png_read_update_info(rd, info);
                unsigned char *row = malloc((size_t)side);
                for (int y = 0; y < side; y++) {
                        png_read_row(rd, row, NULL);
                        for (int x = 0; x < side; x++) {
                                int mx = x / scale - QRIMG_QUIET, my = y / scale - QRIMG_QUIET;
                                int dark = mx >= 0 && my >= 0 && mx < q.width && my < q.width &&
                                           q.modules[my * q.width + mx];
                                if ((row[x] == 0) != dark) {
                                        print_error("scale %d pixel %d,%d\n", scale, x, y);
                                        fail();
                                }
                        }
                }
                free(row);
                png_destroy_read_struct(&rd, &info, NULL);
                free(png);
        }
        /* The finder pattern's corner is dark, its separator light. */
        assert_int_equal(q.modules[0], 1);
        assert_int_equal(q.modules[7], 0);
        unsigned char *png = NULL;
        size_t len = 0;
        struct pop_err err = {0};
        assert_int_equal(qrimg_png(&q, 0, &png, &len, &err), POP_EINVAL);
        assert_int_equal(qrimg_png(&q, QRIMG_MAX_SCALE + 1, &png, &len, &err), POP_EINVAL);
        assert_null(png);
        qrimg_free(&q);
}

static void test_terminal(void **state)
{
        (void)state;
        struct qrimg q = encode("079092026135|Nguyễn Văn An");
        char *t = NULL;
        size_t len = 0;
        struct pop_err err = {0};
        assert_int_equal(qrimg_terminal(&q, &t, &len, &err), 0);
        assert_int_equal(strlen(t), len);
        const int side = q.width + 2 * QRIMG_QUIET;
        int line = 0;
        char *p = t;
        while (*p) {
                const char on[] = "\x1b[30;47m", off[] = "\x1b[0m\n";
                assert_memory_equal(p, on, sizeof on - 1);
                p += sizeof on - 1;
                for (int x = 0; x < side; x++) {
                        int top, bottom;
                        if (*p == ' ') {
                                top = bottom = 0;
                                p++;
                        } else {
                                assert_memory_equal(p, "\xe2\x96", 2);
                                top = p[2] == '\x80' || p[2] == '\x88';
                                bottom = p[2] == '\x84' || p[2] == '\x88';
                                assert_true(top || bottom);
                                p += 3;
                        }
                        for (int h = 0; h < 2; h++) {
                                int mx = x - QRIMG_QUIET, my = 2 * line + h - QRIMG_QUIET;
                                int dark = mx >= 0 && my >= 0 && mx < q.width && my < q.width &&
                                           q.modules[my * q.width + mx];
                                assert_int_equal(h ? bottom : top, dark);
                        }
                }
                assert_memory_equal(p, off, sizeof off - 1);
                p += sizeof off - 1;
                line++;
        }
        assert_int_equal(line, (side + 1) / 2);
        free(t);
        qrimg_free(&q);
}

static void test_sizes_and_limits(void **state)
{
        (void)state;
        char *big = malloc(QRIMG_MAX_DATA + 1);
        memset(big, 'x', QRIMG_MAX_DATA + 1);
        struct qrimg q;
        struct pop_err err = {0};
        int last = 0;
        for (size_t n = 10; n <= QRIMG_MAX_DATA;
             n = n * 2 > QRIMG_MAX_DATA && n < QRIMG_MAX_DATA ? QRIMG_MAX_DATA : n * 2) {
                assert_int_equal(qrimg_encode(big, n, &q, &err), 0);
                assert_true(q.version > last);
                last = q.version;
                qrimg_free(&q);
        }
        assert_int_equal(last, 40);
        assert_int_equal(qrimg_encode(big, QRIMG_MAX_DATA + 1, &q, &err), POP_ETOOBIG);
        assert_string_equal(err.rule, "qr-too-big");
        assert_null(q.modules);
        assert_int_equal(qrimg_encode(big, 0, &q, &err), POP_EINVAL);
        free(big);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_png),
            cmocka_unit_test(test_terminal),
            cmocka_unit_test(test_sizes_and_limits),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
