/* fuzz_input_lines.c - `connrt run --input FILE --input-format lines`. */
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input(data, size, CONNRT_INPUT_LINES);
    return 0;
}
