#include <config.h>
#include "lib/valid.h"

#include <ctype.h>
#include <string.h>

bool
nvo_valid_name(const char *s)
{
    size_t len = s ? strlen(s) : 0;
    if (!len || len > NVO_NAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (!isalnum(c) && c != '.' && c != '_' && c != '-') {
            return false;
        }
    }
    return true;
}

bool
nvo_valid_ifname(const char *s)
{
    size_t len = s ? strlen(s) : 0;
    if (!len || len > NVO_IFNAME_MAX || !strcmp(s, ".") || !strcmp(s, "..")) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (c == '/' || c == ':' || !isgraph(c)) {
            return false;
        }
    }
    return true;
}

bool
nvo_valid_vni(int64_t vni)
{
    return vni >= 1 && vni <= NVO_VNI_MAX;
}

bool
nvo_valid_text(const char *s, size_t max)
{
    if (!s || strlen(s) > max) {
        return false;
    }
    for (const char *p = s; *p; p++) {
        if (!isprint((unsigned char) *p)) {
            return false;
        }
    }
    return true;
}
