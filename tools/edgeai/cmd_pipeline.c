/* `edgeai pipeline`: placeholder until the module lands (replaced by its owner). */
#include "cli.h"

int cmd_pipeline(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_fail_usage("pipeline", "not built yet");
}
