/* rest.h - the northbound REST API (HTTP/1.1 + JSON) on the libuv loop.
 * [Owner: REST/store work; this is the minimum main.c relies on.] */
#ifndef NVO_REST_H
#define NVO_REST_H 1

struct nvo_ctl;
struct nvo_rest;

/* Listens on 'addr' ("IP:PORT") and serves the API over 'ctl'.  Returns NULL
 * and sets '*errp' (negative errno) on failure.  Caller owns the result. */
struct nvo_rest *nvo_rest_create(struct nvo_ctl *ctl, const char *addr,
                                 int *errp);

/* Stops listening, closes connections, frees.  Accepts NULL. */
void nvo_rest_destroy(struct nvo_rest *);

#endif /* controller/rest.h */
