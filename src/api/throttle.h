/*
 * throttle.h — login throttling (issue "Hostile load"; docs/decisions.md):
 * repeated failed logins are throttled per username and per client
 * address, as DRF's throttles answer: 429 with Retry-After and
 * {"detail": "Request was throttled. Expected available in N seconds."}.
 *
 * Each key (a username, an address) has a leaky bucket: a failed login
 * adds one, and the bucket drains at `limit` per THROTTLE_WINDOW seconds;
 * a login is refused while one more failure would overflow it. So a key
 * may fail `limit` times in a burst, then once per WINDOW/limit seconds.
 * A successful login empties the username's bucket. The buckets live in
 * this process's memory, in tables of a fixed size (an attacker cycling
 * through keys pushes out the least filled, never grows them); with
 * several server processes each keeps its own.
 */
#ifndef STOCKROOM_THROTTLE_H
#define STOCKROOM_THROTTLE_H

#define THROTTLE_WINDOW 600                /* seconds */
#define THROTTLE_USER_DEFAULT 10           /* failures per window, per username */
#define THROTTLE_ADDRESS_DEFAULT 100       /* failures per window, per client address */

/* Set the limits (0: no throttling of that kind). */
void throttle_configure(unsigned per_user, unsigned per_address);
/* Seconds before a login of this username from this address may be
 * tried (0: now). Either may be NULL. */
int throttle_wait(const char *username, const char *address);
void throttle_failed(const char *username, const char *address);
void throttle_succeeded(const char *username);
/* Throttled logins answered so far (for metrics). */
unsigned long long throttle_hits(void);
void throttle_hit(void);

#endif
