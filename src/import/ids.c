/*
 * The IDs an import has loaded so far (import_int.h), as the lines after need them: a duplicate
 * ID is refused, a parent's dob and sex are checked.
 *
 * The store keeps the list keyed by ID (store_import_loaded, a temporary table) and the lines
 * come in no ID order: one insert per line lands on a random page of it, which misses the page
 * cache once the list outgrows it (10M people: about 300 MB of pages) and then costs a read and
 * a write of the temporary file per line. So the newest IDs wait here, up to a fixed number,
 * found through a hash table (open addressing, at most half full), and go to the store sorted:
 * one sweep of its pages per batch instead of one random page per ID. A Bloom filter (B. H.
 * Bloom, "Space/time trade-offs in hash coding with allowable errors", CACM 13(7), 1970) of
 * every ID added answers "not loaded" for a new ID without asking the store; a positive that is
 * not waiting here asks the store, so a false positive costs one lookup, never a wrong answer.
 * Memory is fixed by the two sizes given at creation, whatever the number of people.
 */
#include "import/import_int.h"

#include <stdlib.h>
#include <string.h>

struct imp_ids {
        struct imp_id *v; /* n IDs not yet handed to the store, in the order added */
        uint32_t *slot;   /* index into v + 1, by hash of the ID; 0: empty */
        uint64_t *bloom;
        size_t n, cap, n_slots;
        uint64_t bloom_mask; /* bits - 1 */
        imp_ids_flush_fn *flush;
        imp_ids_find_fn *find;
        void *ctx;
};

/* splitmix64's finalizer (G. Steele, D. Lea, C. Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014): IDs of one province and birth year differ in their low digits
 * only, and every bit of the hash depends on every bit of the ID. */
static uint64_t id_hash(int64_t pid)
{
        uint64_t z = (uint64_t)pid + 0x9e3779b97f4a7c15u;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        return z ^ (z >> 31);
}

/*
 * The i-th of the filter's bit positions. All k bits of an ID fall in one 512-bit block, one
 * cache line (F. Putze, P. Sanders, J. Singler, "Cache-, hash- and space-efficient Bloom
 * filters", WEA 2007): a lookup costs one memory access instead of k, for a slightly higher
 * false-positive rate. The block comes from the low half of the hash, the bits within it by
 * double hashing (A. Kirsch, M. Mitzenmacher, "Less hashing, same performance: building a
 * better Bloom filter", ESA 2006) from the high half.
 */
static uint64_t bloom_bit(const struct imp_ids *d, uint64_t h, unsigned i)
{
        uint64_t block = (uint32_t)h & (d->bloom_mask >> 9);
        uint32_t h2 = (uint32_t)(h >> 32), step = (h2 >> 16) | 1;
        return block << 9 | ((h2 + step * i) & 511);
}

static bool bloom_maybe(const struct imp_ids *d, uint64_t h)
{
        for (unsigned i = 0; i < IMP_IDS_BLOOM_K; i++) {
                uint64_t b = bloom_bit(d, h, i);
                if (!(d->bloom[b / 64] >> (b % 64) & 1))
                        return false;
        }
        return true;
}

static void bloom_add(struct imp_ids *d, uint64_t h)
{
        for (unsigned i = 0; i < IMP_IDS_BLOOM_K; i++) {
                uint64_t b = bloom_bit(d, h, i);
                d->bloom[b / 64] |= (uint64_t)1 << (b % 64);
        }
}

/* The slot of the ID among the waiting ones: its own, or the empty one it would take. The table
 * has twice as many slots as IDs wait, so an empty one is always reached. */
static uint32_t *slot_of(const struct imp_ids *d, int64_t pid, uint64_t h)
{
        for (size_t i = h % d->n_slots;; i = (i + 1) % d->n_slots)
                if (!d->slot[i] || d->v[d->slot[i] - 1].pid == pid)
                        return &d->slot[i];
}

int imp_ids_new(size_t cap, unsigned bloom_log2, imp_ids_flush_fn *flush, imp_ids_find_fn *find,
                void *ctx, struct imp_ids **out, struct pop_err *err)
{
        *out = NULL;
        /* At least one 512-bit block; at most 2^32 blocks (the block is 32 bits of the hash). */
        if (cap < 1 || cap > UINT32_MAX / 2 || bloom_log2 < 9 || bloom_log2 > 41)
                return pop_fail(err, POP_EINVAL, "import-ids", "bad size for the ID list");
        struct imp_ids *d = calloc(1, sizeof *d);
        if (!d)
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory for the import's ID list");
        d->cap = cap;
        d->n_slots = 2 * cap;
        d->bloom_mask = ((uint64_t)1 << bloom_log2) - 1;
        d->flush = flush;
        d->find = find;
        d->ctx = ctx;
        d->v = malloc(cap * sizeof *d->v);
        d->slot = calloc(d->n_slots, sizeof *d->slot);
        d->bloom = calloc(((size_t)1 << bloom_log2) / 64, sizeof *d->bloom);
        if (!d->v || !d->slot || !d->bloom) {
                imp_ids_free(d);
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory for the import's ID list");
        }
        *out = d;
        return 0;
}

void imp_ids_free(struct imp_ids *d)
{
        if (!d)
                return;
        free(d->v);
        free(d->slot);
        free(d->bloom);
        free(d);
}

static int by_pid(const void *a, const void *b)
{
        int64_t x = ((const struct imp_id *)a)->pid, y = ((const struct imp_id *)b)->pid;
        return (x > y) - (x < y);
}

int imp_ids_flush(struct imp_ids *d, struct pop_err *err)
{
        if (!d->n)
                return 0;
        qsort(d->v, d->n, sizeof *d->v, by_pid);
        int rc = d->flush(d->ctx, d->v, d->n, err);
        if (rc) {
                /* The IDs stay listed here: their slots follow them to where the sort moved them,
                 * so a find after a failed flush still answers right. */
                memset(d->slot, 0, d->n_slots * sizeof *d->slot);
                for (size_t i = 0; i < d->n; i++)
                        *slot_of(d, d->v[i].pid, id_hash(d->v[i].pid)) = (uint32_t)(i + 1);
                return rc;
        }
        d->n = 0;
        memset(d->slot, 0, d->n_slots * sizeof *d->slot);
        return 0;
}

int imp_ids_find(struct imp_ids *d, int64_t pid, struct imp_id *out, struct pop_err *err)
{
        uint64_t h = id_hash(pid);
        if (!bloom_maybe(d, h))
                return POP_ENOTFOUND;
        const uint32_t *sl = slot_of(d, pid, h);
        if (!*sl)
                return d->find(d->ctx, pid, out, err);
        *out = d->v[*sl - 1];
        return 0;
}

int imp_ids_add(struct imp_ids *d, const struct imp_id *id, struct pop_err *err)
{
        uint64_t h = id_hash(id->pid);
        uint32_t *sl = slot_of(d, id->pid, h);
        if (*sl)
                return POP_ECONFLICT;
        if (bloom_maybe(d, h)) {
                struct imp_id old;
                int rc = d->find(d->ctx, id->pid, &old, err);
                if (rc == 0)
                        return POP_ECONFLICT;
                if (rc != POP_ENOTFOUND)
                        return rc;
        }
        bloom_add(d, h);
        *sl = (uint32_t)d->n + 1;
        d->v[d->n++] = *id;
        return d->n == d->cap ? imp_ids_flush(d, err) : 0;
}

size_t imp_ids_waiting(const struct imp_ids *d)
{
        return d->n;
}
