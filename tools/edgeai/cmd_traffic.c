/* `edgeai traffic`: placeholder until the module lands (replaced by its owner). */
#include "cli.h"

int cmd_traffic(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_fail_usage("traffic", "not built yet");
}
