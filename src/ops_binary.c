/*
** ops_binary.c — kernel family 'binary' (being written).
*/
#include "ld_op.h"

const ld_op_def ld_ops_binary[] = {
    {0},
};
