/* rest.h - the northbound REST API (HTTP/1.1 + JSON) on the libuv loop.
 *
 * Resources (DESIGN.md has the contract; names are 1..64 characters of
 * [A-Za-z0-9._-], every collection is listed by id):
 *
 *   GET    /healthz                     200 {"status":"ok","revision":R}
 *   GET    /metrics                     200 Prometheus text (metrics.c;
 *                                       every family and its labels:
 *                                       doc/nvo-controller.8, METRICS)
 *   GET    /v1/networks                 200 [network]
 *   POST   /v1/networks                 201 {"name","vni","bum"?}
 *   GET|PATCH|DELETE /v1/networks/{name}   PATCH {"bum"} only
 *   GET    /v1/hypervisors              200 [hypervisor] (with "state",
 *                                       "confirmed_revision",
 *                                       "required_revision")
 *   POST   /v1/hypervisors              201 {"name","tunnel_ip","dataplane",
 *                                       "role"?,"ovsdb"? (OVS only)}
 *   GET|DELETE /v1/hypervisors/{name}
 *   GET    /v1/ports[?network=N][&hypervisor=H]
 *   POST   /v1/ports                    201 {"vm","network","hypervisor",
 *                                       "mac","ip"?,"iface"}  (VM start)
 *   GET|PATCH|DELETE /v1/ports/{id}     PATCH {"hypervisor"?,"iface"?}
 *                                       (migration)
 *   GET    /v1/openapi.json             200 doc/openapi.json (compiled in):
 *                                       keep it in step with every change
 *                                       here (tests/integration/
 *                                       test-openapi.sh checks answers)
 *   GET    /                            200 the topology page (HTML)
 *   GET    /v1/status                   200 per hypervisor: state, lag,
 *                                       last confirmation, flows, FDB
 *                                       entries; per network: members,
 *                                       service node (rest-status.c)
 *
 * Creates answer 201 with the whole object (its "id" and "revision", the
 * store revision of the write) and a Location header; GET and PATCH 200;
 * DELETE 204.  Errors are {"error":{"code","message"}}: 400 malformed or
 * invalid, 404 unknown object or path, 405 (with Allow), 409 conflict
 * (duplicate name, VNI, tunnel IP, MAC in the network, interface on the
 * hypervisor; delete while ports use it), 413 body over 1 MiB, 415 not
 * application/json; with a token file 401 and 403 (see
 * nvo_rest_set_token_file()).  HTTP-level errors have the same shape and
 * close the connection (rest-framing.h): 400 malformed request or header
 * line, bad or conflicting Content-Length; 411 Transfer-Encoding; 413 above
 * 4 MiB; 414 path over 512 bytes; 431 head over 64 KiB or 100 header lines.
 * A failed request changes nothing.
 *
 * Durability: a write is answered only after its SQLite transaction
 * committed with synchronous=FULL (see store.h), so a 2xx survives a
 * kill -9 or a power cut right after it.
 *
 * ?wait=1 on any write: the answer waits until every affected hypervisor
 * (those with ports in the touched networks, before and after the change,
 * their service node, or the hypervisor itself) confirmed the write's
 * revision; after --wait-timeout (default NVO_CTL_WAIT_TIMEOUT_MS = 10 s)
 * it is 504 {"error":{"code":"timeout"}} and the write stays committed.
 *
 * Connections: any number, all served by the one loop; idle or stalled
 * clients are dropped after 10 s.
 *
 * [Owner: REST/store work.] */
#ifndef NVO_REST_H
#define NVO_REST_H 1

struct nvo_ctl;
struct nvo_rest;

/* Listens on 'addr' ("IP:PORT") and serves the API over 'ctl'.  Returns NULL
 * and sets '*errp' (negative errno) on failure.  Caller owns the result. */
struct nvo_rest *nvo_rest_create(struct nvo_ctl *ctl, const char *addr,
                                 int *errp);

/* Requires "Authorization: Bearer TOKEN" with a token of 'file' (see
 * rest-auth.h for its format) on every request but GET /healthz: 401 with
 * "WWW-Authenticate: Bearer" without a valid token, 403 for a reader's
 * write.  Returns 0, or a negative errno and sets '*errmsg' (caller frees)
 * if the file is unreadable or malformed. */
int nvo_rest_set_token_file(struct nvo_rest *, const char *file,
                            char **errmsg);

/* Serves HTTPS (TLS 1.2 or later) instead of plain HTTP with the PEM
 * 'private_key' and 'certificate' (which may hold the chain).  When either
 * file changes on disk, connections accepted afterwards use the new ones
 * (checked at most once a second; if the new files do not load, the old
 * ones stay in use and the reason is logged).  Returns 0, or a negative
 * errno and sets '*errmsg' (caller frees). */
int nvo_rest_set_tls(struct nvo_rest *, const char *private_key,
                     const char *certificate, char **errmsg);

/* SIGHUP: re-reads the token file; a file that no longer loads keeps the
 * old tokens in force and logs why.  Also looks at the TLS files now. */
void nvo_rest_reload(struct nvo_rest *);

/* Stops listening, drops pending ?wait=1 answers, frees (once the loop has
 * run the close callbacks).  Call before nvo_ctl_destroy().  Accepts NULL. */
void nvo_rest_destroy(struct nvo_rest *);

#endif /* controller/rest.h */
