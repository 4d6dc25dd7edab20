/*
 * QR symbols: libqrencode for the matrix, libpng for images, half blocks for terminals. See
 * qrimage.h.
 */
#include "core/qrimage.h"

#include <png.h>
#include <qrencode.h>
#include <stdlib.h>
#include <string.h>

int qrimg_encode(const void *data, size_t len, struct qrimg *out, struct pop_err *err)
{
        memset(out, 0, sizeof *out);
        if (len == 0)
                return pop_fail(err, POP_EINVAL, "qr-empty", "nothing to encode");
        if (len > QRIMG_MAX_DATA)
                return pop_fail(err, POP_ETOOBIG, "qr-too-big",
                                "%zu bytes do not fit a QR code (at most %d at level %s)", len,
                                QRIMG_MAX_DATA, QRIMG_LEVEL_NAME);
        /* Byte mode (ISO/IEC 18004 §7.4.5) carries any bytes; version 0 lets libqrencode pick
         * the smallest version that fits. */
        QRcode *qr = QRcode_encodeData((int)len, data, 0, QR_ECLEVEL_M);
        if (!qr)
                return pop_fail(err, POP_ENOMEM, "qr-encode",
                                "libqrencode could not encode %zu bytes", len);
        size_t n = (size_t)qr->width * (size_t)qr->width;
        out->modules = malloc(n);
        if (!out->modules) {
                QRcode_free(qr);
                return pop_fail(err, POP_ENOMEM, "qr-encode", "out of memory");
        }
        /* libqrencode: bit 0 of each byte is the module's colour (1 dark); the others describe
         * what the module belongs to. */
        for (size_t i = 0; i < n; i++)
                out->modules[i] = qr->data[i] & 1;
        out->version = qr->version;
        out->width = qr->width;
        QRcode_free(qr);
        return 0;
}

void qrimg_free(struct qrimg *q)
{
        if (!q)
                return;
        free(q->modules);
        memset(q, 0, sizeof *q);
}

/* Is the module at (x, y) of the picture with its quiet zone dark? */
static int dark_at(const struct qrimg *q, int x, int y)
{
        x -= QRIMG_QUIET;
        y -= QRIMG_QUIET;
        if (x < 0 || y < 0 || x >= q->width || y >= q->width)
                return 0;
        return q->modules[(size_t)y * (size_t)q->width + (size_t)x];
}

struct membuf {
        unsigned char *p;
        size_t len, cap;
        int failed;
};

static void png_write_mem(png_structp png, png_bytep data, size_t len)
{
        struct membuf *b = png_get_io_ptr(png);
        if (b->failed)
                return;
        if (b->len + len > b->cap) {
                size_t cap = b->cap ? b->cap : 4096;
                while (cap < b->len + len)
                        cap *= 2;
                unsigned char *p = realloc(b->p, cap);
                if (!p) {
                        b->failed = 1;
                        return;
                }
                b->p = p;
                b->cap = cap;
        }
        memcpy(b->p + b->len, data, len);
        b->len += len;
}

static void png_flush_mem(png_structp png)
{
        (void)png;
}

int qrimg_png(const struct qrimg *q, int scale, unsigned char **png_out, size_t *png_len,
              struct pop_err *err)
{
        *png_out = NULL;
        *png_len = 0;
        if (!q->modules || q->width <= 0)
                return pop_fail(err, POP_EINVAL, "qr-png", "no symbol to draw");
        if (scale < 1 || scale > QRIMG_MAX_SCALE)
                return pop_fail(err, POP_EINVAL, "qr-png", "scale %d is outside 1..%d", scale,
                                QRIMG_MAX_SCALE);
        const int side = (q->width + 2 * QRIMG_QUIET) * scale;
        const size_t row_bytes = ((size_t)side + 7) / 8;
        /* Locals read after a longjmp from libpng must not live in registers (C17 7.13.2.1). */
        struct membuf buf = {0};
        unsigned char *volatile row = malloc(row_bytes);
        png_structp volatile png = NULL;
        png_infop volatile info = NULL;
        int rc = 0;
        if (!row) {
                rc = pop_fail(err, POP_ENOMEM, "qr-png", "out of memory");
                goto out;
        }
        png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
        if (!png || !(info = png_create_info_struct(png))) {
                rc = pop_fail(err, POP_ENOMEM, "qr-png", "libpng could not start");
                goto out;
        }
        if (setjmp(png_jmpbuf(png))) {
                rc = pop_fail(err, POP_EIO, "qr-png", "libpng failed to write the image");
                goto out;
        }
        png_set_write_fn(png, &buf, png_write_mem, png_flush_mem);
        png_set_IHDR(png, info, (png_uint_32)side, (png_uint_32)side, 1, PNG_COLOR_TYPE_GRAY,
                     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        png_write_info(png, info);
        for (int y = 0; y < side; y++) {
                /* 1-bit grayscale, most significant bit first: 1 is white (light), 0 black. */
                memset(row, 0, row_bytes);
                for (int x = 0; x < side; x++)
                        if (!dark_at(q, x / scale, y / scale))
                                row[x / 8] |= (unsigned char)(0x80 >> (x % 8));
                png_write_row(png, row);
        }
        png_write_end(png, info);
        if (buf.failed) {
                rc = pop_fail(err, POP_ENOMEM, "qr-png", "out of memory");
                goto out;
        }
        *png_out = buf.p;
        *png_len = buf.len;
        buf.p = NULL;
out:
        if (png) {
                png_structp p = png;
                png_infop i = info;
                png_destroy_write_struct(&p, i ? &i : NULL);
        }
        free(row);
        free(buf.p);
        return rc;
}

int qrimg_terminal(const struct qrimg *q, char **text, size_t *text_len, struct pop_err *err)
{
        static const char on[] = "\x1b[30;47m", off[] = "\x1b[0m\n";
        static const char *const cell[4] = {" ", "\xe2\x96\x84", "\xe2\x96\x80", "\xe2\x96\x88"};
        *text = NULL;
        *text_len = 0;
        if (!q->modules || q->width <= 0)
                return pop_fail(err, POP_EINVAL, "qr-terminal", "no symbol to draw");
        const int side = q->width + 2 * QRIMG_QUIET;
        const int lines = (side + 1) / 2;
        const size_t cap = (size_t)lines * (sizeof on - 1 + (size_t)side * 3 + sizeof off - 1) + 1;
        char *s = malloc(cap);
        if (!s)
                return pop_fail(err, POP_ENOMEM, "qr-terminal", "out of memory");
        size_t n = 0;
        for (int l = 0; l < lines; l++) {
                memcpy(s + n, on, sizeof on - 1);
                n += sizeof on - 1;
                for (int x = 0; x < side; x++) {
                        /* Index: 2 when the top module is dark, 1 when the bottom one is. */
                        const char *c = cell[2 * dark_at(q, x, 2 * l) + dark_at(q, x, 2 * l + 1)];
                        size_t cl = strlen(c);
                        memcpy(s + n, c, cl);
                        n += cl;
                }
                memcpy(s + n, off, sizeof off - 1);
                n += sizeof off - 1;
        }
        s[n] = '\0';
        *text = s;
        *text_len = n;
        return 0;
}
