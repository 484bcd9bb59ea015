/* `edgeai topo`: placeholder until the module lands (replaced by its owner). */
#include "cli.h"

int cmd_topo(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_fail_usage("topo", "not built yet");
}
