/* edgeai status codes and the per-thread error sentence.
 *
 *   eai_status_t st = eai_model_load("m.onnx", NULL, &m);
 *   if (st != EAI_OK) fprintf(stderr, "%s\n", eai_last_error());
 *
 * Every fallible call returns a status; the failing site writes one human
 * sentence into a thread-local buffer that eai_last_error() reads.
 */
#ifndef EDGEAI_STATUS_H
#define EDGEAI_STATUS_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(EAI_BUILDING) && defined(__GNUC__)
#define EAI_API __attribute__((visibility("default")))
#else
#define EAI_API
#endif

#if defined(__GNUC__)
#define EAI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define EAI_PRINTF(a, b)
#endif

typedef enum eai_status {
    EAI_OK = 0,
    EAI_E_INVALID,     /* bad argument from the caller */
    EAI_E_NOMEM,       /* allocation failed */
    EAI_E_FORMAT,      /* malformed file or message */
    EAI_E_UNSUPPORTED, /* valid input that edgeai cannot handle (op, dtype, attribute) */
    EAI_E_IO,          /* file or socket error */
    EAI_E_STATE,       /* call not valid in the object's current state */
    EAI_E_TIMEOUT,     /* a deadline passed */
    EAI_E_UNAVAILABLE, /* a peer or resource is not reachable */
} eai_status_t;

/* Short constant name of a status ("EAI_E_FORMAT"). Never NULL. */
EAI_API const char *eai_status_str(eai_status_t st);

/* The sentence written by the last failing call on this thread ("" if none).
 * Valid until the next failing call on the same thread. Thread-safe. */
EAI_API const char *eai_last_error(void);

/* Records a failure sentence for this thread and returns `st` unchanged, so
 * that a failure site reads `return eai_fail(EAI_E_FORMAT, "...", ...)`. */
EAI_API eai_status_t eai_fail(eai_status_t st, const char *fmt, ...) EAI_PRINTF(2, 3);
EAI_API eai_status_t eai_failv(eai_status_t st, const char *fmt, va_list ap);

/* Clears this thread's error sentence. */
EAI_API void eai_clear_error(void);

/* Propagate a failure without rewriting its message. */
#define EAI_TRY(expr)                                                                              \
    do {                                                                                           \
        eai_status_t eai_try_st_ = (expr);                                                         \
        if (eai_try_st_ != EAI_OK) return eai_try_st_;                                             \
    } while (0)

#ifdef __cplusplus
}
#endif
#endif
