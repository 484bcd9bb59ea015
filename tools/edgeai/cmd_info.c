/* `edgeai info MODEL`: inputs, outputs, op histogram, parameters, MACs and the
 * arena a batch-1 session plans. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "plan/plan_impl.h"

static void print_op(const char *op, int count, void *user)
{
    int *col = user;
    printf("  %-22s %5d%s", op, count, (++*col % 3) ? "" : "\n");
}

static void print_tensor(const char *kind, const eai_tensor_info_t *t)
{
    char dims[128];
    cli_format_dims(t, dims, sizeof dims);
    printf("  %-6s %-28s %-8s %s\n", kind, t->name, eai_dtype_name(t->dtype), dims);
}

/* .eai plans: format facts from the header and the meta section. */
static void print_plan(const char *path)
{
    eai__plan_info_t pi;
    if (eai__plan_read_info(path, &pi) != EAI_OK) {
        eai_clear_error();
        return;
    }
    printf("plan       format %u, %s weights%s, backend %s, built by edgeai %s (%s)\n",
           (unsigned)pi.version, pi.flags & EAI__PLAN_F_FP16 ? "fp16" : "fp32",
           pi.flags & EAI__PLAN_F_FP16 ? " (computed in float32)" : "",
           pi.backend[0] ? pi.backend : "any", pi.edgeai_version, pi.build);
    printf("           from %s; %llu bytes: graph %llu, strings %llu, weights %llu\n",
           pi.source[0] ? pi.source : "(unknown)", (unsigned long long)pi.file_bytes,
           (unsigned long long)pi.graph_bytes, (unsigned long long)pi.strings_bytes,
           (unsigned long long)pi.weights_bytes);
}

int cmd_info(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: edgeai info MODEL\n\nPrints the model's inputs and outputs "
                   "(symbolic dims as -1), op histogram,\nparameter count, MACs and the "
                   "activation arena of a batch-1 session.\n");
            return 0;
        }
        if (argv[i][0] == '-') return cli_fail_usage("info", "unknown option '%s'", argv[i]);
        if (path) return cli_fail_usage("info", "one model at a time");
        path = argv[i];
    }
    if (!path) return cli_fail_usage("info", "usage: edgeai info MODEL");
    eai_model_t *m;
    if (eai_model_load(path, NULL, &m) != EAI_OK) return cli_fail_status("info");
    eai_session_t *s;
    if (eai_session_create(m, NULL, &s) != EAI_OK) {
        eai_model_destroy(m);
        return cli_fail_status("info");
    }
    eai_model_stats_t st;
    eai_model_get_stats(m, &st);
    printf("model      %s\n", path);
    printf("producer   %s\n", st.producer[0] ? st.producer : "(unknown)");
    printf("opset      %d\n", st.opset);
    print_plan(path);
    printf("tensors\n");
    for (int i = 0; i < eai_model_n_inputs(m); i++) {
        eai_tensor_info_t t;
        eai_model_input_info(m, i, &t);
        print_tensor("input", &t);
    }
    for (int i = 0; i < eai_model_n_outputs(m); i++) {
        eai_tensor_info_t t;
        eai_model_output_info(m, i, &t);
        print_tensor("output", &t);
    }
    printf("nodes      %d (%d kernels after constant folding)\n", st.n_nodes,
           eai_session_n_kernels(s));
    printf("params     %lld (%.2f M)\n", (long long)st.n_params, (double)st.n_params / 1e6);
    printf("MACs       %lld (%.3f G at batch 1)\n", (long long)st.macs, (double)st.macs / 1e9);
    printf("arena      %zu bytes (%.2f MiB)\n", eai_session_arena_bytes(s),
           (double)eai_session_arena_bytes(s) / (1 << 20));
    printf("ops\n");
    int col = 0;
    eai_model_op_histogram(m, print_op, &col);
    if (col % 3) printf("\n");
    eai_session_destroy(s);
    eai_model_destroy(m);
    return 0;
}
