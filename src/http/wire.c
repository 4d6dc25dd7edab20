/*
 * UTF-8 validation and request id checks; see wire.h. The validator takes eight ASCII bytes at
 * a time, which is what most JSON is, and decodes the rest by the table of RFC 3629 section 4.
 */
#include "http/wire.h"

#include <stdint.h>
#include <string.h>

#include "http/router.h"

bool http_utf8_valid(const char *str, size_t len)
{
        const unsigned char *s = (const unsigned char *)str;
        size_t i = 0;
        while (i < len) {
                if (len - i >= 8) {
                        uint64_t w;
                        memcpy(&w, s + i, 8);
                        if ((w & 0x8080808080808080ULL) == 0) {
                                i += 8;
                                continue;
                        }
                }
                unsigned char c = s[i];
                if (c < 0x80) {
                        i++;
                        continue;
                }
                /* RFC 3629 section 4: the second byte's range depends on the first. */
                size_t n;
                unsigned char lo = 0x80, hi = 0xBF;
                if (c >= 0xC2 && c <= 0xDF) {
                        n = 2;
                } else if (c >= 0xE0 && c <= 0xEF) {
                        n = 3;
                        if (c == 0xE0)
                                lo = 0xA0; /* no overlong */
                        else if (c == 0xED)
                                hi = 0x9F; /* no surrogates */
                } else if (c >= 0xF0 && c <= 0xF4) {
                        n = 4;
                        if (c == 0xF0)
                                lo = 0x90; /* no overlong */
                        else if (c == 0xF4)
                                hi = 0x8F; /* nothing above U+10FFFF */
                } else {
                        return false; /* continuation byte, C0, C1 or F5..FF */
                }
                if (len - i < n || s[i + 1] < lo || s[i + 1] > hi)
                        return false;
                for (size_t k = 2; k < n; k++)
                        if ((s[i + k] & 0xC0) != 0x80)
                                return false;
                i += n;
        }
        return true;
}

bool http_reqid_ok(const char *s, size_t len)
{
        if (!s || len == 0 || len > HTTP_REQID_MAX)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!http_unreserved((unsigned char)s[i]))
                        return false;
        return true;
}
