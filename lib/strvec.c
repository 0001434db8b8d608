#include <config.h>
#include "lib/strvec.h"

#include <string.h>

int
nvo_strvec_compare(const void *a_, const void *b_)
{
    const char *const *a = a_, *const *b = b_;
    return strcmp(*a, *b);
}
