/* PLACEHOLDER written by the lead so the CLI links; the helper that owns
 * this file replaces it entirely. */
#include "cli.h"
int cmd_calibrate(int argc, char **argv)
{
    (void)argc;
    return cli_fail_usage(argv[0], "not built yet");
}
