/* fuzz_input_jsonl.c - `connrt run --input FILE --input-format jsonl`. */
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input(data, size, CONNRT_INPUT_JSONL);
    return 0;
}
