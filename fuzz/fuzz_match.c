/*
 * Fuzz target for src/core/match.c, the comparison of a relying party's claims (POST
 * /v1/auth/verify, verify-batch lines) with the registry's values. The input is split at its
 * first newline: the claim before it (client input, any bytes), the registry's side after it
 * (normalized here as the registry would store it; inputs it would not store are skipped). The
 * claim goes to match_name, match_dob, match_sex and match_address in both modes, and the target
 * aborts when an invariant breaks:
 *   - a call succeeds or refuses the claim with POP_EINVAL / POP_ETOOBIG, nothing else;
 *   - a result's score is within 0..MATCH_SCORE_MAX, and ok exactly when the mode's rule says;
 *   - what matches exactly also matches partially (name, date, sex);
 *   - the registry's own name, claimed, matches exactly with the top score; the name similarity
 *     of two keys is symmetric, and a key of at most MATCH_WORDS_MAX words is fully similar to
 *     itself (longer names score 0, match.h).
 * Corpus: fuzz/corpus/match/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/match.h"
#include "core/name.h"

#define BIG (2 * NAME_MAX_BYTES + 1)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
        fprintf(stderr, "invariant broken: %s\n", what);
        abort();
}

static bool refused(int rc)
{
        return rc == POP_EINVAL || rc == POP_ETOOBIG;
}

/* One call in both modes: 0 or a refusal in each, and exact implies partial when asked. */
static void both_modes(int rc_exact, const struct match_result *ex, int rc_partial,
                       const struct match_result *pa, bool exact_implies_partial)
{
        if ((rc_exact && !refused(rc_exact)) || (rc_partial && !refused(rc_partial)))
                die("a match call failed with something other than a refusal of the claim");
        if ((rc_exact == 0) != (rc_partial == 0))
                die("a claim refused in one mode and accepted in the other");
        if (rc_exact)
                return;
        if (ex->score < 0 || ex->score > MATCH_SCORE_MAX || pa->score < 0 ||
            pa->score > MATCH_SCORE_MAX)
                die("score out of range");
        if (ex->ok != (ex->how != MATCH_NONE) || pa->ok != (pa->how != MATCH_NONE))
                die("ok disagrees with how");
        if (exact_implies_partial && ex->ok && !pa->ok)
                die("an exact match is not a partial match");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *in = (const char *)data;
        const char *nl = memchr(in, '\n', size);
        size_t clen = nl ? (size_t)(nl - in) : size;
        const char *stored = nl ? nl + 1 : "";
        size_t slen = nl ? size - clen - 1 : 0;
        struct pop_err e = {0};
        struct match_result ex, pa;

        /* The registry's name: stored only when it normalizes, with its folded form and key. */
        char norm[NAME_MAX_BYTES + 1], fold[BIG], key[BIG];
        bool have_name = name_normalize(stored, slen, norm, sizeof norm, &e) == 0 &&
                         name_fold(norm, strlen(norm), fold, sizeof fold, &e) == 0 &&
                         name_key(norm, strlen(norm), key, sizeof key, &e) == 0;
        if (have_name) {
                int r1 = match_name(in, clen, fold, key, MATCH_EXACT, &ex, &e);
                int r2 = match_name(in, clen, fold, key, MATCH_PARTIAL, &pa, &e);
                both_modes(r1, &ex, r2, &pa, true);
                /* The registry's own name matches itself exactly. */
                if (match_name(norm, strlen(norm), fold, key, MATCH_EXACT, &ex, &e) || !ex.ok ||
                    ex.score != MATCH_SCORE_MAX)
                        die("a stored name does not match itself exactly");
                size_t words = 1;
                for (const char *c = key; *c; c++)
                        words += *c == ' ';
                if (words <= MATCH_WORDS_MAX && match_name_similarity(key, key) != MATCH_SCORE_MAX)
                        die("a key of at most MATCH_WORDS_MAX words is not fully similar to "
                            "itself");
                /* Similarity of two keys is symmetric (Jaro-Winkler is). */
                char ckey[BIG];
                if (name_key(in, clen, ckey, sizeof ckey, &e) == 0 &&
                    match_name_similarity(ckey, key) != match_name_similarity(key, ckey))
                        die("name similarity is not symmetric");
        }

        /* The registry's date of birth: any date pdate_parse takes from the stored side. */
        struct pdate dob;
        if (pdate_parse(stored, slen, &dob, &e) == 0) {
                int r1 = match_dob(in, clen, dob, MATCH_EXACT, &ex, &e);
                int r2 = match_dob(in, clen, dob, MATCH_PARTIAL, &pa, &e);
                both_modes(r1, &ex, r2, &pa, true);
        }

        for (int s = SEX_UNKNOWN; s <= SEX_FEMALE; s++) {
                int r1 = match_sex(in, clen, (enum sex)s, MATCH_EXACT, &ex, &e);
                int r2 = match_sex(in, clen, (enum sex)s, MATCH_PARTIAL, &pa, &e);
                both_modes(r1, &ex, r2, &pa, true);
        }

        /* The registry's address line: valid text, as the registry stores it. */
        char line[512];
        if (text_normalize(stored, slen, line, sizeof line, &e) == 0) {
                int r1 = match_address(in, clen, line, "Hà Nội", MATCH_EXACT, &ex, &e);
                int r2 = match_address(in, clen, line, "Hà Nội", MATCH_PARTIAL, &pa, &e);
                both_modes(r1, &ex, r2, &pa, false);
        }
        return 0;
}
