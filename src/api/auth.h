/*
 * auth.h — who is calling (contract §2), in this order:
 *   1. an API key header as real clients spell it (API_KEY, API-KEY,
 *      Api-Key, ... — names are case-insensitive): a customer's key, or the
 *      temporary key of a live §2.1 session;
 *   2. "Authorization: Token <key>" (the same keys);
 *   3. "Authorization: Bearer <access token>" (§4.3);
 *   4. the sessionid cookie of a live session (§2.1, §6).
 * Sets request.customer_id (and, for a session cookie, session_csrf and
 * username), or answers 401 in DRF's words (with WWW-Authenticate: Token)
 * and returns false. A session cookie that names no live session counts as
 * no credentials: 401, never 403, since clients log in again only on 401.
 *
 * auth_check_csrf(): requests authenticated by a session cookie whose
 * method is unsafe must carry the session's CSRF token (X-CSRFToken,
 * X-CSRF-Token, or the form field csrfmiddlewaretoken), else 403
 * "CSRF Failed: ...". Keys and tokens need none: a browser never adds
 * them to a forged request by itself.
 */
#ifndef STOCKROOM_AUTH_H
#define STOCKROOM_AUTH_H

#include <stdbool.h>

#include "http/request.h"

bool auth_authenticate(request *r);
bool auth_check_csrf(request *r);

/*
 * On PostgreSQL credentials are cached (api/credentials.h): once a request
 * has made its first round trip, every change committed before it was sent
 * has reached the cache, and auth_recheck() asks again whether its
 * credential is still good — 1 yes, 0 no (*why: the 401's detail), -1 a
 * database error. cache_only (inside a write, whose own changes a query
 * would see): 0 also when the cache no longer holds it, to be asked again
 * outside the transaction. Without a cache (SQLite: the lookup at the
 * start was the database's word) or credentials (public routes): 1.
 * auth_refuse() answers the 401.
 */
int auth_recheck(request *r, bool cache_only, const char **why);
void auth_refuse(request *r, const char *why);

/* The value of cookie `name` from the Cookie header (in r's arena), or NULL. */
const char *request_cookie(request *r, const char *name);

#endif
