/*
 * The life-event write endpoint and the change feed of the data-sharing API (events.c), for
 * the route table in handlers.c. docs/API.md "Life events" and "Change feed".
 */
#ifndef POP_HTTP_EVENTS_H
#define POP_HTTP_EVENTS_H

#include "http/http_int.h"

/* POST /v1/events */
int http__h_events_post(struct http_req *rq, const struct http_match *m) POP_MUST_USE;
/* GET /v1/changes */
int http__h_changes(struct http_req *rq, const struct http_match *m) POP_MUST_USE;

#endif
