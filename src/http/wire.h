/*
 * Checks on bytes that arrive off the wire before any handler sees them: UTF-8 validity of a
 * request body and the shape of a client's X-Request-Id. Pure; fuzzed by fuzz/fuzz_router.c.
 */
#ifndef POP_HTTP_WIRE_H
#define POP_HTTP_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_REQID_MAX 64 /* bytes of a request id we accept from a client */

/*
 * True when s[0..len) is well-formed UTF-8 (RFC 3629 section 4): no overlong forms, no
 * surrogates, nothing above U+10FFFF, no truncated sequence. Control characters are allowed
 * (JSON bodies hold newlines); what a field may contain is the parser's business.
 */
bool http_utf8_valid(const char *s, size_t len);

/*
 * True when a client's X-Request-Id may be echoed and logged as it is: 1..HTTP_REQID_MAX
 * bytes of RFC 3986 "unreserved" characters (a UUID, a ULID, a hex string). Anything else is
 * replaced by an id of our own, never refused: the id is for tracing, not for access.
 */
bool http_reqid_ok(const char *s, size_t len);

#endif
