/*
 * events.c — the event stream (see events.h).
 */
#include "api/events.h"

void events_notify(int64_t customer_id)
{
    (void)customer_id;   /* the stream is not served yet: nothing to wake */
}
