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

/* The value of cookie `name` from the Cookie header (in r's arena), or NULL. */
const char *request_cookie(request *r, const char *name);

#endif
