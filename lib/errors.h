/* errors.h - nvo's one error convention.
 *
 * Every nvo function that can fail returns an int: 0 on success or a
 * negative errno value (-EINVAL, -ENOMEM, ...), as libuv does.  Functions
 * that return a pointer return NULL on failure and say so in their comment;
 * where the reason matters they take an 'int *errp' or a 'char **errmsg'
 * (which the caller owns and frees with free()).
 *
 * Ownership is stated in each function's comment: "caller owns" means the
 * caller must release the result with the matching *_destroy() or free();
 * "borrowed" means the pointer stays valid only as long as its container.
 * Every *_destroy() function accepts NULL. */
#ifndef NVO_ERRORS_H
#define NVO_ERRORS_H 1

#include <errno.h>

/* Returns a static description of negative-errno 'error' (0 => "success"). */
const char *nvo_strerror(int error);

#endif /* lib/errors.h */
