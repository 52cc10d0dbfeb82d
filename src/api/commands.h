/*
 * commands.h — a device command (contract §3.3, §8): what a pick-to-light
 * device shows. Declared once here — its fields with their limits and
 * choices, its defaults, how it is stored and how it is rendered — and used
 * by the device views, bulk updates, launch, acknowledgements, sequences,
 * location aliases and the query-string API. A command is validated once,
 * where it enters (a body, a path, a sequence step), and from then on
 * travels typed: stored in device_commands' columns and shown from them,
 * never rebuilt as JSON and checked again.
 *
 * A device holds a stack of live commands, newest on top (§8.1): its
 * `display` is the top one. A command with a nonce no live command has is
 * added on top; one with the nonce of a live command replaces it (on top);
 * one without a nonce replaces them all. kill/off with a nonce removes the
 * command of that nonce wherever it is, without one all of them. A command
 * with seconds > 0 lives until its expiry, when the expiry worker
 * (expiry.h) removes it and sends its nack.
 */
#ifndef STOCKROOM_COMMANDS_H
#define STOCKROOM_COMMANDS_H

#include <stdbool.h>
#include <stdint.h>

#include "api/fields.h"
#include "api/json.h"
#include "http/request.h"
#include "store/store.h"

#define INT32_LIMIT 2147483647
#define COMMANDS_MAX 16   /* live commands a device holds */
#define MSG_COMMANDS_FULL "A device holds at most 16 commands."
/* command_show's answer when the device would hold more than COMMANDS_MAX */
#define COMMAND_FULL 2

typedef struct device_command {
    const char *command;        /* "flash", "display" or "pick" */
    const char *line[5];
    const char *color;          /* as stored: lower case */
    const char *arrow;
    const char *sound;
    int64_t seconds;            /* 0: until acknowledged or replaced */
    bool has_quantity;
    int64_t quantity;
    const char *barcode, *qrcode, *icon;
    const char *nonce;
    int64_t expires;            /* microseconds; 0: never (filled when shown) */
} device_command;

/* The choices of a command's fields (devices.c, sequences.c declare
 * fields with them). */
bool choose_command(arena *a, const char *in, size_t n, const char **out);   /* + kill, off */
bool choose_step_command(arena *a, const char *in, size_t n, const char **out);  /* shown ones only */
bool choose_color(arena *a, const char *in, size_t n, const char **out);
bool choose_arrow(arena *a, const char *in, size_t n, const char **out);
extern const char *const command_choices[], *const step_command_choices[], *const color_choices[],
    *const arrow_choices[];

/* The declarations of a command's fields, one each, for the schemas that
 * carry commands: a device's display (devices.c) and a sequence step. */
#define COMMAND_TEXT(fname, max) {fname, FIELD_STRING, F_ALLOW_BLANK, .max_length = (max)}
#define COMMAND_FIELD_COMMAND {"command", FIELD_CHOICE, 0, .choose = choose_command, .choices = command_choices}
#define COMMAND_FIELD_STEP_COMMAND \
    {"command", FIELD_CHOICE, F_ALLOW_BLANK, .choose = choose_step_command, .choices = step_command_choices}
#define COMMAND_FIELD_LINE(k) COMMAND_TEXT("line" #k, 255)
#define COMMAND_FIELD_COLOR \
    {"color", FIELD_CHOICE, F_ALLOW_BLANK, .choose = choose_color, .choices = color_choices}
#define COMMAND_FIELD_ARROW \
    {"arrow", FIELD_CHOICE, F_ALLOW_BLANK, .choose = choose_arrow, .choices = arrow_choices}
#define COMMAND_FIELD_SOUND COMMAND_TEXT("sound", 1024)
#define COMMAND_FIELD_SECONDS {"seconds", FIELD_INTEGER, 0, .min_value = 0, .max_value = INT32_LIMIT}
#define COMMAND_FIELD_QUANTITY \
    {"quantity", FIELD_INTEGER, F_ALLOW_NULL, .min_value = 0, .max_value = INT32_LIMIT}

/* A command from a validated record of any schema carrying command fields
 * (by name; `nonce_field` names the field holding its nonce: "nonce", or a
 * step's "stepnonce"). Absent fields take their defaults: command flash,
 * text "", seconds 0, quantity null. */
void command_from_record(const record *rec, const char *nonce_field, device_command *out);
/* Is it kill/off (clears rather than shows)? */
bool command_is_kill(const device_command *c);

/* Show c on device `row` (of r's customer), in the request's transaction,
 * by the stack's rules above. `arrow`, when not NULL, replaces the
 * command's own (a location alias's); step_ref is the sequence step it
 * shows (0: none). Sets c->expires. VIEW_DONE, COMMAND_FULL (the caller
 * answers, e.g. with command_full_answer()) or a store error. */
int command_show(request *r, int64_t device_row, device_command *c, const char *arrow, int64_t step_ref);
/* The 400 of a device that would hold too many commands; VIEW_ANSWERED. */
int command_full_answer(request *r);
/* kill/off: remove device `row`'s live commands, all or (nonce non-empty)
 * the one with that nonce. */
int command_kill(request *r, int64_t device_row, const char *nonce);
/* Remove one command (by its id) from device `row`: VIEW_RETRY when it is
 * gone already (it expired meanwhile). */
int command_remove(request *r, int64_t device_row, int64_t command_id);
/* Change one command's quantity by delta, never below 0 (null counts as
 * 0): a press of up or down. VIEW_RETRY when it is gone already. */
int command_adjust(request *r, int64_t device_row, int64_t command_id, int delta);
/* Remove every live command of r's customer with this nonce (abort). */
int commands_clear_nonce(request *r, const char *nonce);
/* Clear every command showing a step of sequence `seq` (relaunch, delete);
 * step_ref > 0: only that step's. */
int commands_clear_steps(request *r, int64_t seq, int64_t step_ref);

/* The columns of a stored command, for a SELECT over device_commands
 * aliased `c` (COMMAND_NCOLUMNS of them), and reading them back. */
#define COMMAND_COLUMNS                                                                  \
    "c.command, c.line1, c.line2, c.line3, c.line4, c.line5, c.color, c.arrow, c.sound, " \
    "c.seconds, c.quantity, c.barcode, c.qrcode, c.icon, c.nonce, c.expires"
#define COMMAND_NCOLUMNS 16
/* The command in columns first.. (arena); false when the row has none. */
bool command_from_row(arena *a, store_stmt *st, int first, device_command *out);

/* A device's display: the command as JSON (contract §3.3's Display). */
void command_render(jw *w, const device_command *c);

#endif
