/*
 * The error record: formatting of messages and names of codes. See err.h.
 */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int pop_fail(struct pop_err *err, int code, const char *rule, const char *fmt, ...)
{
        if (!err)
                return code;
        err->code = code;
        snprintf(err->rule, sizeof err->rule, "%s", rule ? rule : "");
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        return code;
}

void pop_err_clear(struct pop_err *err)
{
        if (err)
                memset(err, 0, sizeof *err);
}

const char *pop_strerror(int code)
{
        switch (code) {
        case POP_OK:
                return "ok";
        case POP_EINVAL:
                return "invalid input";
        case POP_ENOTFOUND:
                return "not found";
        case POP_ERULE:
                return "rule violated";
        case POP_ECONFLICT:
                return "conflict";
        case POP_ESTORE:
                return "store failure";
        case POP_ENOMEM:
                return "out of memory";
        case POP_EAGAIN:
                return "try again";
        case POP_EFULL:
                return "number space exhausted";
        case POP_ETOOBIG:
                return "too big";
        case POP_EVERIFY:
                return "verification failed";
        case POP_EIO:
                return "I/O error";
        }
        return "unknown error";
}
