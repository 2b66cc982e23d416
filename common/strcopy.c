/* strcopy: bounded copies without snprintf (strcopy.h). */
#include "strcopy.h"

#include <string.h>

size_t strcopy(char *dst, size_t size, const char *src)
{
    size_t len = strlen(src);
    size_t n = len < size ? len : size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return len;
}

size_t strcopy_id(char *dst, size_t size, const char *prefix, uint64_t seq)
{
    char digits[20];
    size_t nd = 0;
    do {
        digits[sizeof(digits) - 1 - nd++] = (char)('0' + seq % 10);
        seq /= 10;
    } while (seq);
    char tail[22];
    tail[0] = '/';
    memcpy(tail + 1, digits + sizeof(digits) - nd, nd);
    tail[1 + nd] = '\0';
    size_t len = strcopy(dst, size, prefix);
    size_t at = len < size ? len : size - 1;
    strcopy(dst + at, size - at, tail);
    return len + 1 + nd;
}
