/* store.h - the durable placement store (SQLite).  [Owner: REST/store work;
 * this is the minimum main.c and ctl.c rely on.] */
#ifndef NVO_STORE_H
#define NVO_STORE_H 1

struct nvo_model;
struct nvo_store;

/* Opens (creating if needed) the SQLite database at 'path', applies pending
 * migrations, refuses a database newer than this binary.  On success returns
 * 0 and sets '*storep' (caller owns; nvo_store_close()).  On failure returns
 * a negative errno and sets '*errmsg' (caller frees) to a clear message. */
int nvo_store_open(const char *path, struct nvo_store **storep, char **errmsg);

/* Loads every row into the empty model 'm' and sets m->revision. */
int nvo_store_load(struct nvo_store *, struct nvo_model *m);

/* Closes the database.  Accepts NULL. */
void nvo_store_close(struct nvo_store *);

#endif /* controller/store.h */
