/*
 * Fuzz target for the line side of popid import (src/import/parse.c) on JSONL input; the checks
 * are in import_target.h. Run under libFuzzer with POPID_FUZZ=ON, or as a corpus replayer
 * (fuzz/replay.c) in every ctest.
 */
#define FORMAT IMP_JSONL
#include "import_target.h"
