/* `edgeai scene`: placeholder until the module lands (replaced by its owner). */
#include "cli.h"

int cmd_scene(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_fail_usage("scene", "not built yet");
}
