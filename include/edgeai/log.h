/* Logging for progress and warnings (errors go to eai_last_error, not here).
 *
 *   eai_log_set(my_cb, my_ctx, EAI_LOG_INFO);
 *
 * Default: stderr at WARN. The sink is process-wide, set once at start-up
 * before other threads use edgeai (it is the one piece of library state).
 */
#ifndef EDGEAI_LOG_H
#define EDGEAI_LOG_H

#include "edgeai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum eai_log_level {
    EAI_LOG_ERROR = 0,
    EAI_LOG_WARN = 1,
    EAI_LOG_INFO = 2,
    EAI_LOG_DEBUG = 3,
} eai_log_level_t;

/* Receives one formatted line without trailing newline; `msg` is valid during
 * the call only. */
typedef void (*eai_log_fn)(void *user, eai_log_level_t level, const char *msg);

/* Sets the sink (NULL: stderr) and the most verbose level passed to it. */
EAI_API void eai_log_set(eai_log_fn fn, void *user, eai_log_level_t max_level);

#ifdef __cplusplus
}
#endif
#endif
