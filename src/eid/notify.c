/*
 * Delivery of activation and unlock codes (docs/EID.md "Code delivery"): the code's message is
 * sealed and written to the durable outbox (hub/outbox.h) inside the transaction that stores the
 * code's hash, so the message exists exactly when the code does, and the delivery thread of
 * `popid serve --notify-url` hands it to the SMS or e-mail gateway as it does OTPs (otp.c). The
 * clear code lives only in the sealed body and in the caller's buffer, which is wiped.
 */
#include "eid/eid_int.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eid/otp.h"

/* The text the gateway sends as it is (ASCII Vietnamese, as the OTP's: one SMS segment). */
static void code_text(const char *kind, const char *code, char *out, size_t cap)
{
        bool unlock = !strcmp(kind, EID_KIND_UNLOCK);
        snprintf(out, cap,
                 "popid: ma %s tai khoan dinh danh dien tu cua ban la %s, hieu luc %d phut. "
                 "Khong chia se ma nay. (eID %s code)",
                 unlock ? "mo khoa" : "kich hoat", code, EID_CODE_TTL_MS / 60000,
                 unlock ? "unlock" : "activation");
}

int eid__code_queue(struct eid_ctx *c, const struct store_eid_account *a, const char *kind,
                    const char *code, int64_t expires_ms, struct pop_err *err)
{
        if (c->sent)
                memset(c->sent, 0, sizeof *c->sent);
        if (!c->outbox_key)
                return 0; /* the offline path: the caller hands the code over */
        /* Decree 69/2024/ND-CP art. 10(1): the code goes to the phone number or e-mail address
         * registered with the request; the phone first, as for OTPs (otp.c). */
        bool email = !a->phone[0];
        const char *to = email ? a->email : a->phone;
        if (!to[0])
                return pop_fail(err, POP_ERULE, "otp-no-channel",
                                "the eID account has no registered channel");
        bool unlock = !strcmp(kind, EID_KIND_UNLOCK);
        const char *topic = unlock ? "eid-unlock" : "eid-activation";
        char text[200];
        code_text(kind, code, text, sizeof text);
        json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "topic", topic, "channel",
                              email ? "email" : "sms", "to", to, "code", code, "expires_ms",
                              (json_int_t)expires_ms, "text", text);
        sodium_memzero(text, sizeof text);
        /* Dumped into a buffer of ours, wiped below: json_dumps would grow a heap buffer by
         * copying it and free the copies (and its last one) with the code in them. */
        char msg[HUB_OUTBOX_MSG_MAX];
        size_t msg_len = m ? json_dumpb(m, msg, sizeof msg, JSON_COMPACT) : 0;
        eid_json_wipe(m); /* jansson's own copies of the code and text, wiped before freed */
        json_decref(m);
        int rc = 0;
        if (!m || !msg_len)
                rc = pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        else if (msg_len > sizeof msg)
                rc = pop_fail(err, POP_ETOOBIG, "outbox-too-big",
                              "the code's message is over %d bytes", HUB_OUTBOX_MSG_MAX);
        uint8_t sealed[HUB_OUTBOX_MSG_MAX + HUB_OUTBOX_SEAL_OVERHEAD];
        size_t sealed_len = 0;
        if (!rc)
                rc = hub_outbox_seal(c->outbox_key, msg, msg_len, sealed, sizeof sealed,
                                     &sealed_len, err);
        sodium_memzero(msg, sizeof msg);
        if (rc)
                return rc;
        int64_t now = eid__now(c);
        struct store_outbox ob = {.subject = a->pid,
                                  .body = sealed,
                                  .body_len = sealed_len,
                                  .state = STORE_OUTBOX_PENDING,
                                  .next_ms = now,
                                  .created_ms = now,
                                  .updated_ms = now};
        snprintf(ob.topic, sizeof ob.topic, "%s", topic);
        snprintf(ob.ref, sizeof ob.ref, "%s", kind);
        if ((rc = store_outbox_insert(c->st, &ob, err)))
                return rc;
        if (c->sent) {
                c->sent->outbox_id = ob.id;
                c->sent->expires_ms = expires_ms;
                snprintf(c->sent->channel, sizeof c->sent->channel, "%s", email ? "email" : "sms");
                eid_otp_mask(to, email, c->sent->sent_to, sizeof c->sent->sent_to);
        }
        return 0;
}
