/* `edgeai serve --model NAME=PATH ...`: the KServe v2 REST server
 * (edgeai/serve.h) until SIGINT or SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "edgeai/serve.h"

#define MAX_MODELS 64

static void usage(void)
{
    printf("usage: edgeai serve --model NAME=PATH [--model ...] [--host 127.0.0.1] [--port N]\n"
           "                    [--threads N] [--instances N] [--max-batch N --max-delay-us U]\n"
           "                    [--max-body BYTES] [--timeout-ms N] [--backend NAME]\n"
           "                    [--port-file FILE] [--quiet]\n\n"
           "Serves each model (.onnx or .eai) over the KServe v2 / Open Inference Protocol\n"
           "REST API: /v2/health/{live,ready}, /v2, /v2/models/NAME[/ready|/infer], /metrics.\n"
           "--port 0 picks a free port; --port-file writes the bound port once listening.\n"
           "--threads 0 (default) serves each connection on its own thread. --max-batch > 1\n"
           "turns on dynamic batching for models with a symbolic batch dimension.\n"
           "SIGINT/SIGTERM stop cleanly.\n");
}

int cmd_serve(int argc, char **argv)
{
    eai_serve_model_t models[MAX_MODELS];
    int n_models = 0;
    eai_server_opts_t o = {0};
    const char *port_file = NULL;
    long v;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            return 0;
        }
        if (strcmp(a, "--quiet") == 0) {
            o.quiet = true;
            continue;
        }
        if (!val) return cli_fail_usage(argv[0], "%s needs a value", a);
        i++;
        if (strcmp(a, "--model") == 0) {
            const char *eq = strchr(val, '=');
            if (!eq || eq == val || !eq[1])
                return cli_fail_usage(argv[0], "--model wants NAME=PATH, got \"%s\"", val);
            if (n_models == MAX_MODELS)
                return cli_fail_usage(argv[0], "at most %d models", MAX_MODELS);
            /* split in place: argv strings are writable */
            argv[i][eq - val] = '\0';
            models[n_models++] = (eai_serve_model_t){.name = argv[i], .path = eq + 1};
        } else if (strcmp(a, "--host") == 0) {
            o.host = val;
        } else if (strcmp(a, "--port-file") == 0) {
            port_file = val;
        } else if (strcmp(a, "--backend") == 0) {
            o.backend = val;
        } else if (strcmp(a, "--port") == 0) {
            if (!cli_parse_int(argv[0], a, val, 0, 65535, &v)) return 2;
            o.port = (int)v;
        } else if (strcmp(a, "--threads") == 0) {
            if (!cli_parse_int(argv[0], a, val, 0, 1024, &v)) return 2;
            o.threads = (int)v;
        } else if (strcmp(a, "--instances") == 0) {
            if (!cli_parse_int(argv[0], a, val, 1, 64, &v)) return 2;
            o.instances = (int)v;
        } else if (strcmp(a, "--max-batch") == 0) {
            if (!cli_parse_int(argv[0], a, val, 1, 1024, &v)) return 2;
            o.max_batch = (int)v;
        } else if (strcmp(a, "--max-delay-us") == 0) {
            if (!cli_parse_int(argv[0], a, val, 1, 10000000, &v)) return 2;
            o.max_delay_us = v;
        } else if (strcmp(a, "--max-body") == 0) {
            if (!cli_parse_int(argv[0], a, val, 16, 1L << 40, &v)) return 2;
            o.max_body_bytes = (size_t)v;
        } else if (strcmp(a, "--timeout-ms") == 0) {
            if (!cli_parse_int(argv[0], a, val, 1, 3600000, &v)) return 2;
            o.request_timeout_ms = (int)v;
        } else {
            return cli_fail_usage(argv[0], "unknown option %s (see --help)", a);
        }
    }
    if (n_models == 0) return cli_fail_usage(argv[0], "give at least one --model NAME=PATH");
    o.models = models;
    o.n_models = n_models;

    /* Block the stop signals in every thread (the server's threads inherit
     * this mask) and take them synchronously below with sigwait. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    eai_server_t *s;
    if (eai_server_create(&o, &s) != EAI_OK) return cli_fail_status(argv[0]);
    if (eai_server_start(s) != EAI_OK) {
        int rc = cli_fail_status(argv[0]);
        eai_server_destroy(s);
        return rc;
    }
    int port = eai_server_port(s);
    if (port_file) {
        /* write then rename, so a reader never sees a half-written number */
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 || rename(tmp, port_file) != 0) {
            fprintf(stderr, "edgeai serve: cannot write --port-file %s\n", port_file);
            eai_server_destroy(s);
            return 1;
        }
    }
    printf("serving %d models on http://%s:%d\n", n_models, o.host ? o.host : "127.0.0.1", port);
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    if (!o.quiet)
        fprintf(stderr, "edgeai serve: %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    eai_server_destroy(s);
    return 0;
}
