/* `edgeai track`: placeholder until the module lands (replaced by its owner). */
#include "cli.h"

int cmd_track(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_fail_usage("track", "not built yet");
}
