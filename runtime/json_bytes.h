/*
 * json_bytes.h - finding, 8 and 32 bytes a step, the next byte of a JSON
 * string that is not plain ASCII text: a control character, '"', '\\' or a
 * byte >= 0x80 (UTF-8 to check). The JSON Lines writer escapes there and
 * the pointer scanner validates there; a payload is mostly plain, and
 * going byte by byte was a quarter of a produced 1 KiB document's time.
 */
#ifndef CONNRT_JSON_BYTES_H
#define CONNRT_JSON_BYTES_H

#include <stdint.h>
#include <string.h>

static inline int connrt_json_needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
}

#define CONNRT_JSON_BYTES_01 0x0101010101010101ull
#define CONNRT_JSON_BYTES_80 0x8080808080808080ull

/* The bytes of the 8 at p that need attention, each marked by its high bit
 * (SWAR: below 0x20, equal to '"' or '\\', or with its high bit set). A
 * borrow can only mark bytes after a marked one, so the lowest mark is
 * exact. */
static inline uint64_t connrt_json_marks8(const unsigned char *p)
{
    uint64_t x, quote, backslash;
    memcpy(&x, p, sizeof(x));
    quote = x ^ (CONNRT_JSON_BYTES_01 * '"');
    backslash = x ^ (CONNRT_JSON_BYTES_01 * '\\');
    return (((x - CONNRT_JSON_BYTES_01 * 0x20) & ~x) |
            ((quote - CONNRT_JSON_BYTES_01) & ~quote) |
            ((backslash - CONNRT_JSON_BYTES_01) & ~backslash) | x) &
           CONNRT_JSON_BYTES_80;
}

#if defined(__GNUC__)
/* 32 bytes as two 16-byte vectors (GCC/clang vector extensions: SSE2 on
 * x86-64, NEON on arm64), a third of the SWAR cost on long plain runs. */
typedef unsigned char connrt_json_v16 __attribute__((vector_size(16)));

static inline int connrt_json_plain32(const unsigned char *p)
{
    connrt_json_v16 a, b;
    uint64_t words[2];
    memcpy(&a, p, sizeof(a));
    memcpy(&b, p + 16, sizeof(b));
    /* Each test gives all ones in a lane that needs attention. */
    connrt_json_v16 m = (connrt_json_v16)((a < 0x20) | (a == '"') | (a == '\\') | (a >= 0x80)) |
                        (connrt_json_v16)((b < 0x20) | (b == '"') | (b == '\\') | (b >= 0x80));
    memcpy(words, &m, sizeof(words));
    return (words[0] | words[1]) == 0;
}
#else
static inline int connrt_json_plain32(const unsigned char *p)
{
    return (connrt_json_marks8(p) | connrt_json_marks8(p + 8) | connrt_json_marks8(p + 16) |
            connrt_json_marks8(p + 24)) == 0;
}
#endif

#if defined(__SSE2__)
#include <emmintrin.h>

#define CONNRT_JSON_MASK16 1
/* One bit per byte of the 16 at p (bit i: p[i]), set when the byte needs
 * attention: the position of the first one is a count of trailing zeros,
 * where the vector test above only says "somewhere". */
static inline unsigned connrt_json_mask16(const unsigned char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    /* Signed: bytes >= 0x80 are negative, so below 0x20 too. */
    __m128i low = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
    __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
    __m128i backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(low, _mm_or_si128(quote, backslash)));
}
#endif

/* The first byte in [p, end) that needs attention, or end. */
static inline const unsigned char *connrt_json_plain_end(const unsigned char *p,
                                                         const unsigned char *end)
{
#if defined(CONNRT_JSON_MASK16)
    while (end - p >= 16) {
        unsigned mask = connrt_json_mask16(p);
        if (mask != 0) {
            return p + __builtin_ctz(mask);
        }
        p += 16;
    }
#else
    while (end - p >= 32 && connrt_json_plain32(p)) {
        p += 32;
    }
#endif
    while (end - p >= 8) {
        uint64_t marks = connrt_json_marks8(p);
        if (marks != 0) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            /* The first byte in memory is the lowest of the word. */
            return p + __builtin_ctzll(marks) / 8;
#else
            break;
#endif
        }
        p += 8;
    }
    while (p < end && !connrt_json_needs_escape(*p)) {
        p++;
    }
    return p;
}

#endif
