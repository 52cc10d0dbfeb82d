/*
 * metrics.h — the server's measurements, for GET /metrics in Prometheus'
 * text exposition format (version 0.0.4).
 *
 * Each layer keeps its own measurements (counters and histograms of
 * atomics, updated with relaxed atomic adds: a few nanoseconds on the
 * request path, no lock) and registers, once at start, a writer that
 * prints them — HELP and TYPE lines, then its samples — when /metrics is
 * read. This file has the primitives, the process' own figures (memory,
 * CPU, open files, start time) and the build info.
 */
#ifndef STOCKROOM_METRICS_H
#define STOCKROOM_METRICS_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#define METRICS_MAX_BUCKETS 16

/* A histogram: observations counted in buckets by upper bound (each
 * bucket holds the observations <= its bound and above the previous one;
 * cumulated when written), their count and sum. */
typedef struct metrics_histogram {
    const double *bounds;        /* ascending; +Inf is implied after them */
    int nbounds;                 /* <= METRICS_MAX_BUCKETS */
    _Atomic uint64_t bucket[METRICS_MAX_BUCKETS + 1];
    _Atomic uint64_t count;
    _Atomic uint64_t sum;        /* in the unit observations are given in */
} metrics_histogram;

/* Bucket bounds in seconds for durations observed in microseconds. */
extern const double metrics_duration_bounds[];
extern const int metrics_duration_nbounds;
#define METRICS_DURATION_HISTOGRAM {.bounds = metrics_duration_bounds, .nbounds = 14}

/* Count one observation. `v` is in the histogram's raw unit (µs for
 * durations); `scale` turns it into the bounds' unit (1e-6 for µs → s). */
void metrics_observe(metrics_histogram *h, uint64_t v, double scale);

/* Print a histogram's samples (no HELP/TYPE): name_bucket{labels,le=...},
 * name_sum, name_count; `labels` is "" or `key="value",...`; the sum is
 * multiplied by `scale`. */
void metrics_write_histogram(FILE *out, const char *name, const char *labels, metrics_histogram *h,
                             double scale);
/* HELP and TYPE lines of a family. */
void metrics_write_family(FILE *out, const char *name, const char *type, const char *help);
/* A label value escaped as the format wants (\\, \", \n), into buf. */
const char *metrics_label(char *buf, size_t size, const char *value);

/* A layer's writer, called for each /metrics read; registering the same
 * one again does nothing (any thread, any time). */
typedef void (*metrics_writer)(FILE *out, void *ctx);
void metrics_register(metrics_writer w, void *ctx);

/* The build, for stockroom_build_info. */
void metrics_set_build(const char *version);

/* Every registered writer's text, then the process' own figures:
 * malloc'ed, *len bytes. NULL when out of memory. */
char *metrics_render(size_t *len);

#endif
