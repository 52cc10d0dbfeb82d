/*
 * metrics.c — measurements and their text (see metrics.h).
 */
#include "core/metrics.h"

#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

const double metrics_duration_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                          0.05,   0.1,     0.25,   0.5,   1,      2.5};
const int metrics_duration_nbounds = (int)(sizeof metrics_duration_bounds / sizeof metrics_duration_bounds[0]);
_Static_assert(sizeof metrics_duration_bounds / sizeof metrics_duration_bounds[0] == 14,
               "METRICS_DURATION_HISTOGRAM's nbounds");

void metrics_observe(metrics_histogram *h, uint64_t v, double scale)
{
    double x = (double)v * scale;
    int i = 0;
    while (i < h->nbounds && x > h->bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum, v, memory_order_relaxed);
}

void metrics_write_family(FILE *out, const char *name, const char *type, const char *help)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

const char *metrics_label(char *buf, size_t size, const char *value)
{
    size_t n = 0;
    for (const char *p = value; *p && n + 3 < size; p++) {
        if (*p == '\\' || *p == '"' || *p == '\n') {
            buf[n++] = '\\';
            buf[n++] = *p == '\n' ? 'n' : *p;
        } else {
            buf[n++] = *p;
        }
    }
    buf[n] = '\0';
    return buf;
}

void metrics_write_histogram(FILE *out, const char *name, const char *labels, metrics_histogram *h,
                             double scale)
{
    /* read the count first: the buckets it covers are all in by then, so
     * the cumulated +Inf bucket is never below it */
    uint64_t count = atomic_load_explicit(&h->count, memory_order_relaxed);
    uint64_t cumulated = 0;
    const char *comma = *labels ? "," : "";
    for (int i = 0; i <= h->nbounds; i++) {
        cumulated += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        if (i < h->nbounds)
            fprintf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, comma, h->bounds[i],
                    (unsigned long long)cumulated);
        else
            fprintf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, comma,
                    (unsigned long long)(cumulated > count ? cumulated : count));
    }
    double sum = (double)atomic_load_explicit(&h->sum, memory_order_relaxed) * scale;
    const char *open = *labels ? "{" : "", *close = *labels ? "}" : "";
    fprintf(out, "%s_sum%s%s%s %.9g\n", name, open, labels, close, sum);
    fprintf(out, "%s_count%s%s%s %llu\n", name, open, labels, close,
            (unsigned long long)(cumulated > count ? cumulated : count));
}

/* ------------------------------------------------------------ registry */

#define MAX_WRITERS 16

static struct {
    metrics_writer fn;
    void *ctx;
} writers[MAX_WRITERS];
static int nwriters;
static pthread_mutex_t writers_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *build_version = "unknown";

void metrics_register(metrics_writer w, void *ctx)
{
    pthread_mutex_lock(&writers_lock);
    bool known = false;
    for (int i = 0; i < nwriters; i++)
        known |= writers[i].fn == w && writers[i].ctx == ctx;
    if (!known && nwriters < MAX_WRITERS) {
        writers[nwriters].fn = w;
        writers[nwriters].ctx = ctx;
        nwriters++;
    }
    pthread_mutex_unlock(&writers_lock);
}

void metrics_set_build(const char *version)
{
    build_version = version;
}

/* ------------------------------------------------------------ the process */

static int open_files(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1;   /* the directory itself */
}

static void write_process(FILE *out)
{
    long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    unsigned long long utime = 0, stime = 0, start = 0, rss = 0;
    FILE *f = fopen("/proc/self/stat", "r");
    if (f) {
        char buf[1024];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = '\0';
        fclose(f);
        /* the fields after the command's closing parenthesis, from field 3 */
        const char *p = strrchr(buf, ')');
        if (p)
            sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d "
                          "%llu %*u %llu", &utime, &stime, &start, &rss);
    }
    double boot = 0;
    f = fopen("/proc/stat", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "btime %lf", &boot) == 1)
                break;
        fclose(f);
    }
    metrics_write_family(out, "process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.");
    fprintf(out, "process_cpu_seconds_total %.2f\n", (double)(utime + stime) / (double)ticks);
    metrics_write_family(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    fprintf(out, "process_resident_memory_bytes %llu\n", rss * (unsigned long long)page);
    metrics_write_family(out, "process_start_time_seconds", "gauge",
                         "Start time of the process since unix epoch in seconds.");
    fprintf(out, "process_start_time_seconds %.2f\n", boot + (double)start / (double)ticks);
    metrics_write_family(out, "process_open_fds", "gauge", "Number of open file descriptors.");
    fprintf(out, "process_open_fds %d\n", open_files());
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        metrics_write_family(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
        fprintf(out, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
    }
    char version[128];
    metrics_write_family(out, "stockroom_build_info", "gauge", "The build: always 1, its version as a label.");
    fprintf(out, "stockroom_build_info{version=\"%s\"} 1\n", metrics_label(version, sizeof version, build_version));
}

char *metrics_render(size_t *len)
{
    char *text = NULL;
    FILE *out = open_memstream(&text, len);
    if (!out)
        return NULL;
    pthread_mutex_lock(&writers_lock);
    int n = nwriters;
    pthread_mutex_unlock(&writers_lock);
    for (int i = 0; i < n; i++)   /* entries are only ever added */
        writers[i].fn(out, writers[i].ctx);
    write_process(out);
    if (fclose(out) != 0) {
        free(text);
        return NULL;
    }
    return text;
}
