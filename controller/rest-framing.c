/* rest-framing.c - HTTP/1.1 request framing check; see rest-framing.h. */
#include <config.h>
#include "controller/rest-framing.h"

#include <string.h>
#include <strings.h>

#include "util.h"

void
rest_framing_init(struct rest_framing *rf)
{
    memset(rf, 0, sizeof *rf);
    rf->state = RF_HEAD;
    ds_init(&rf->head);
}

void
rest_framing_destroy(struct rest_framing *rf)
{
    if (rf) {
        ds_destroy(&rf->head);
    }
}

/* Trims spaces and tabs around [*s, *e). */
static void
trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t')) {
        (*s)++;
    }
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'
                       || (*e)[-1] == '\r')) {
        (*e)--;
    }
}

static bool
is_tchar(unsigned char c)
{
    /* RFC 9110 token characters. */
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
           || (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Checks one complete line of a head (without its line end): the request
 * line if 'first', else a header line.  Lenient where h2o's parser is. */
static bool
line_ok(const char *s, size_t len, bool first)
{
    const unsigned char *p = (const unsigned char *) s;
    const unsigned char *e = p + len;
    const unsigned char *q = p;

    while (q < e && is_tchar(*q)) {
        q++;
    }
    if (q == p) {
        return false;
    }
    if (!first) {
        if (q == e || *q != ':') {
            return false;
        }
        for (q++; q < e; q++) {
            if ((*q < 0x20 && *q != '\t') || *q == 0x7f) {
                return false;
            }
        }
        return true;
    }
    /* METHOD SP TARGET SP HTTP/1.x */
    if (q == e || *q != ' ') {
        return false;
    }
    while (q < e && *q == ' ') {
        q++;
    }
    const unsigned char *t = q;
    while (q < e && *q > 0x20 && *q != 0x7f) {
        q++;
    }
    if (q == t || q == e || *q != ' ') {
        return false;
    }
    while (q < e && *q == ' ') {
        q++;
    }
    return e - q == 8 && !memcmp(q, "HTTP/1.", 7) && q[7] >= '0'
           && q[7] <= '9';
}

/* Checks the lines of rf->head completed since the last call. */
static enum rest_framing_refusal
check_lines(struct rest_framing *rf)
{
    const char *h = rf->head.string;
    for (;;) {
        const char *s = h + rf->checked;
        const char *nl = memchr(s, '\n', rf->head.length - rf->checked);
        if (!nl) {
            return RF_OK;
        }
        size_t len = nl - s;
        if (len && s[len - 1] == '\r') {
            len--;
        }
        rf->checked = nl + 1 - h;
        if (!len) {
            return RF_OK;       /* The blank line ending the head. */
        }
        if (!line_ok(s, len, rf->n_lines == 0)) {
            return RF_MALFORMED;
        }
        if (++rf->n_lines > NVO_RF_MAX_HEADERS + 1) {
            return RF_HEAD_TOO_LARGE;
        }
    }
}

/* Parses a complete head (request line and header lines).  Returns RF_OK
 * and sets '*body' to the body length, or a refusal. */
static enum rest_framing_refusal
parse_head(const char *h, size_t len, uint64_t *body)
{
    const char *end = h + len;
    const char *line = memchr(h, '\n', len);   /* Skip the request line. */
    bool have_cl = false;
    uint64_t cl = 0;

    *body = 0;
    while (line && line + 1 < end) {
        const char *s = line + 1;
        const char *e = memchr(s, '\n', end - s);
        e = e ? e : end;
        line = e < end ? e : NULL;

        const char *colon = memchr(s, ':', e - s);
        if (!colon) {
            continue;           /* The final blank line (or h2o's 400). */
        }
        size_t nlen = colon - s;
        const char *v = colon + 1, *ve = e;
        trim(&v, &ve);
        if (nlen == 17 && !strncasecmp(s, "transfer-encoding", 17)) {
            return RF_TRANSFER_ENCODING;
        }
        if (nlen != 14 || strncasecmp(s, "content-length", 14)) {
            continue;
        }
        if (v == ve || ve - v > 19) {
            return RF_BAD_LENGTH;
        }
        uint64_t n = 0;
        for (const char *p = v; p < ve; p++) {
            if (*p < '0' || *p > '9') {
                return RF_BAD_LENGTH;
            }
            n = n * 10 + (*p - '0');
        }
        if (have_cl && n != cl) {
            return RF_CONFLICTING_LENGTH;
        }
        have_cl = true;
        cl = n;
    }
    *body = cl;
    return RF_OK;
}

enum rest_framing_refusal
rest_framing_feed(struct rest_framing *rf, const char *data, size_t n)
{
    while (n) {
        switch (rf->state) {
        case RF_REFUSED:
            rf->pos += n;
            return RF_OK;

        case RF_BODY: {
            size_t k = MIN(n, rf->body_left);
            rf->body_left -= k;
            rf->pos += k;
            data += k;
            n -= k;
            if (!rf->body_left) {
                rf->state = RF_HEAD;
            }
            break;
        }

        case RF_HEAD: {
            enum rest_framing_refusal why;
            if (!rf->head.length) {
                /* One empty line between requests (h2o skips one too). */
                if (*data == '\n' && ++rf->n_empty > 1) {
                    rf->head_start = rf->pos;
                    why = RF_MALFORMED;
                    goto refuse;
                }
                if (*data == '\r' || *data == '\n') {
                    rf->pos++;
                    data++;
                    n--;
                    break;
                }
                rf->head_start = rf->pos;
            }
            /* Append up to the end of the head, if it is in 'data'. */
            size_t old = rf->head.length;
            size_t k = MIN(n, NVO_RF_MAX_HEAD + 4 - old);
            ds_put_buffer(&rf->head, data, k);
            const char *h = rf->head.string;
            size_t from = old >= 3 ? old - 3 : 0;
            size_t hend = 0;
            for (size_t i = from; i < rf->head.length; i++) {
                if (h[i] != '\n') {
                    continue;
                }
                if (i >= 1 && h[i - 1] == '\n') {
                    hend = i + 1;
                } else if (i >= 2 && h[i - 1] == '\r' && h[i - 2] == '\n') {
                    hend = i + 1;
                }
                if (hend) {
                    break;
                }
            }
            if (!hend) {
                rf->pos += k;
                data += k;
                n -= k;
                why = (rf->head.length > NVO_RF_MAX_HEAD ? RF_HEAD_TOO_LARGE
                       : check_lines(rf));
                if (why != RF_OK) {
                    goto refuse;
                }
                break;
            }
            size_t used = hend - old;
            rf->pos += used;
            data += used;
            n -= used;
            rf->head.length = hend;
            why = check_lines(rf);
            uint64_t body = 0;
            if (why == RF_OK) {
                why = parse_head(h, hend, &body);
            }
            ds_clear(&rf->head);
            rf->checked = rf->n_lines = 0;
            rf->n_empty = 0;
            if (why != RF_OK) {
            refuse:
                ds_clear(&rf->head);
                rf->state = RF_REFUSED;
                rf->why = why;
                rf->pos += n;
                return why;
            }
            rf->body_left = body;
            rf->state = body ? RF_BODY : RF_HEAD;
            break;
        }
        }
    }
    return RF_OK;
}

int
rest_framing_status(enum rest_framing_refusal why)
{
    return (why == RF_TRANSFER_ENCODING ? 411
            : why == RF_HEAD_TOO_LARGE ? 431
            : 400);
}

const char *
rest_framing_message(enum rest_framing_refusal why)
{
    switch (why) {
    case RF_CONFLICTING_LENGTH:
        return "conflicting Content-Length headers";
    case RF_BAD_LENGTH:
        return "Content-Length is not a decimal number";
    case RF_TRANSFER_ENCODING:
        return "Transfer-Encoding is not accepted: send the body with "
               "Content-Length";
    case RF_MALFORMED:
        return "malformed request line or header line";
    case RF_HEAD_TOO_LARGE:
        return "request head too large";
    case RF_OK:
    default:
        return "";
    }
}
