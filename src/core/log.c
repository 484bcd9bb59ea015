/* The log sink: stderr at WARN unless the application sets one. This is the
 * library's one piece of process state, set once at start-up (see log.h). */
#include <stdarg.h>
#include <stdio.h>

#include "core/core_impl.h"
#include "edgeai/log.h"

static eai_log_fn sink_fn;
static void *sink_user;
static eai_log_level_t sink_level = EAI_LOG_WARN;

void eai_log_set(eai_log_fn fn, void *user, eai_log_level_t max_level)
{
    sink_fn = fn;
    sink_user = user;
    sink_level = max_level;
}

void eai__log(int level, const char *fmt, ...)
{
    if (level > (int)sink_level) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (sink_fn)
        sink_fn(sink_user, (eai_log_level_t)level, line);
    else
        fprintf(stderr, "edgeai: %s\n", line);
}
