/*
 * The OTP and eKYC endpoints for relying parties (otp.c), for the route table in handlers.c.
 * docs/API.md "OTP and eKYC", docs/AUTH.md.
 */
#ifndef POP_HTTP_OTP_H
#define POP_HTTP_OTP_H

#include "http/http_int.h"

/* POST /v1/auth/otp */
int http__h_auth_otp(struct http_req *rq, const struct http_match *m) POP_MUST_USE;
/* POST /v1/ekyc */
int http__h_ekyc(struct http_req *rq, const struct http_match *m) POP_MUST_USE;

#endif
