/*
 * QR code symbols (ISO/IEC 18004) for the identity QR and anything else the registry prints as
 * a code: encoding through libqrencode (byte mode, error correction level M, the smallest
 * version that fits), and rendering the module matrix as a PNG image (libpng, 1 bit per pixel,
 * in memory) or as text for a terminal (UTF-8 half blocks in black on white, two module rows per
 * line). Both renderings keep the 4-module quiet zone that ISO/IEC 18004 §5.3.8 asks for.
 * No I/O: the caller writes the bytes where they belong. See docs/FORMATS.md "Identity QR".
 */
#ifndef POP_CORE_QRIMAGE_H
#define POP_CORE_QRIMAGE_H

#include <stddef.h>

#include "core/err.h"

/* Level M restores up to ~15% of damaged codewords: the usual choice for codes shown on a
 * screen or printed on paper (level L 7%, Q 25%, H 30% cost more modules). */
#define QRIMG_LEVEL_NAME "M"
#define QRIMG_QUIET      4    /* modules of light margin on each side */
#define QRIMG_MAX_DATA   2331 /* bytes a version-40 symbol holds at level M in byte mode */
#define QRIMG_MAX_SCALE  32   /* pixels per module in a PNG */

/* A symbol: width x width modules, row-major, 1 for dark and 0 for light. */
struct qrimg {
        int version; /* 1..40 */
        int width;   /* 17 + 4 * version */
        unsigned char *modules;
};

/* Encodes len bytes into *out (the caller frees it with qrimg_free). POP_ETOOBIG when the data
 * does not fit a version-40 symbol at level M. */
int qrimg_encode(const void *data, size_t len, struct qrimg *out, struct pop_err *err) POP_MUST_USE;
void qrimg_free(struct qrimg *q);

/*
 * A PNG of the symbol: 1-bit grayscale, `scale` pixels per module (1..QRIMG_MAX_SCALE), the
 * quiet zone included, so (width + 2 * QRIMG_QUIET) * scale pixels square. *png is malloc'ed
 * (the caller frees it).
 */
int qrimg_png(const struct qrimg *q, int scale, unsigned char **png, size_t *png_len,
              struct pop_err *err) POP_MUST_USE;

/*
 * The symbol as terminal text: one line per two module rows, each line starting with the ANSI
 * colours black on white (ESC[30;47m) and ending with a reset (ESC[0m) and '\n', each column a
 * space, U+2580 (upper half: top dark), U+2584 (lower half: bottom dark) or U+2588 (full block).
 * Explicit colours keep dark modules dark on a terminal of any theme. *text is malloc'ed and
 * NUL-terminated (the caller frees it).
 */
int qrimg_terminal(const struct qrimg *q, char **text, size_t *text_len,
                   struct pop_err *err) POP_MUST_USE;

#endif
