/*
 * Fuzz target for the personal ID number parser (src/core/pid.c). Any input must be parsed or
 * refused with a message, never crash; an accepted number must explain itself, format back to the
 * same 12 digits, survive the integer round trip and agree with its own year and sex. A broken
 * invariant aborts, so libFuzzer (or the corpus replayer, fuzz/replay.c) reports it.
 * The province and commune code checks of region.c run on the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/pid.h"
#include "core/region.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *s = (const char *)data;
        struct pid_info id;
        struct pop_err err;
        pop_err_clear(&err);

        int province = 0;
        if (region_parse_province(s, size, &province, &err) == 0 &&
            (size < 1 || size > 2 || province < 1 || province > 99))
                abort();
        if (region_check_commune(s, size, &err) == 0 && size != 5)
                abort();

        int rc = pid_parse(s, size, &id, &err);
        if (rc != 0) {
                if (rc != POP_EINVAL || err.code != rc || err.msg[0] == '\0' ||
                    memchr(err.msg, '\0', sizeof err.msg) == NULL)
                        abort();
                return 0;
        }
        if (size != PID_LEN || memcmp(id.pid, data, PID_LEN) != 0 || id.pid[PID_LEN] != '\0')
                abort();

        char text[256];
        pid_explain(&id, text, sizeof text);
        if (strlen(text) == 0 || strlen(text) >= sizeof text)
                abort();
        char small[24];
        pid_explain(&id, small, sizeof small);
        if (strlen(small) >= sizeof small)
                abort();

        char again[PID_LEN + 1];
        if (pid_format(id.prefix, id.birth_year, id.sex, id.suffix, again, &err) != 0 ||
            memcmp(again, data, PID_LEN) != 0)
                abort();
        if (pid_century_sex(id.birth_year, id.sex) != id.century_sex)
                abort();

        int64_t v = pid_to_int(id.pid);
        pid_from_int(v, again);
        if (v < 0 || memcmp(again, data, PID_LEN) != 0)
                abort();

        struct pdate dob = {(int16_t)id.birth_year, 0, 0};
        if (pid_check_person(&id, dob, id.sex, &err) != 0)
                abort();
        return 0;
}
