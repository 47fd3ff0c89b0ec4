/* cmd_inspect.c — placeholder until written */
#include "cmd.h"
int cmd_inspect(int argc, char **argv) { (void)argc; (void)argv; return 0; }
