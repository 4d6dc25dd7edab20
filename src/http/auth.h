/*
 * The verification endpoints for relying parties (auth.c, auth_batch.c), for the route table
 * in handlers.c and the body hooks of server.c. docs/API.md "Verification", docs/AUTH.md.
 */
#ifndef POP_HTTP_AUTH_H
#define POP_HTTP_AUTH_H

#include "http/http_int.h"

/* The signer of the registry's key file at key_path, loaded once per process and kept (shared
 * with POST /v1/ekyc, otp.c); NULL with err when the key cannot be read. Thread-safe. */
struct verify_signer;
const struct verify_signer *http__signer(const char *key_path, struct pop_err *err);

/* POST /v1/auth/verify */
int http__h_verify(struct http_req *rq, const struct http_match *m) POP_MUST_USE;
/* POST /v1/auth/verify-batch */
int http__h_verify_batch(struct http_req *rq, const struct http_match *m) POP_MUST_USE;

/*
 * The batch upload is spooled to a temporary file instead of the request buffer (server.c calls
 * these). http__batch_start: at the headers, 0 when rq is not a batch upload; 1 when it is: the
 * client was authenticated and its call checked first, and either a refusal is queued (or held
 * for its audit entry) so no body is read, or rq->batch is set up (left NULL without memory: the
 * body then counts as too big); < 0 when no refusal could be queued (close the connection).
 * http__batch_body: a piece of body; non-zero cuts the connection. http__batch_free: when the
 * request ends.
 */
int http__batch_start(struct http_req *rq) POP_MUST_USE;
int http__batch_body(struct http_req *rq, const char *data, size_t n);
void http__batch_free(struct http_req *rq);

#endif
