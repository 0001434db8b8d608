#include <config.h>
#include "lib/errors.h"

#include <string.h>

const char *
nvo_strerror(int error)
{
    return error ? strerror(error < 0 ? -error : error) : "success";
}
