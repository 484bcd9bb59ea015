/* `edgeai ops`: the ONNX operators this build runs, one per line. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void print_name(const char *op, void *user)
{
    int *n = user;
    printf("%s\n", op);
    ++*n;
}

int cmd_ops(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        printf("usage: edgeai ops\n\nLists the ONNX operators (default domain) this build "
               "runs on the ref backend.\n");
        return 0;
    }
    if (argc > 1) return cli_fail_usage("ops", "takes no arguments");
    int n = 0;
    eai_op_foreach(print_name, &n);
    fprintf(stderr, "%d ops\n", n);
    return 0;
}
