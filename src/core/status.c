/* Status names and the thread-local error sentence behind eai_last_error(). */
#include <stdio.h>

#include "edgeai/status.h"

static _Thread_local char last_error[1024];

const char *eai_status_str(eai_status_t st)
{
    switch (st) {
    case EAI_OK:
        return "EAI_OK";
    case EAI_E_INVALID:
        return "EAI_E_INVALID";
    case EAI_E_NOMEM:
        return "EAI_E_NOMEM";
    case EAI_E_FORMAT:
        return "EAI_E_FORMAT";
    case EAI_E_UNSUPPORTED:
        return "EAI_E_UNSUPPORTED";
    case EAI_E_IO:
        return "EAI_E_IO";
    case EAI_E_STATE:
        return "EAI_E_STATE";
    case EAI_E_TIMEOUT:
        return "EAI_E_TIMEOUT";
    case EAI_E_UNAVAILABLE:
        return "EAI_E_UNAVAILABLE";
    }
    return "EAI_E_UNKNOWN";
}

const char *eai_last_error(void)
{
    return last_error;
}

void eai_clear_error(void)
{
    last_error[0] = '\0';
}

eai_status_t eai_failv(eai_status_t st, const char *fmt, va_list ap)
{
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    return st;
}

eai_status_t eai_fail(eai_status_t st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    eai_failv(st, fmt, ap);
    va_end(ap);
    return st;
}
