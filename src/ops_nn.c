/*
** ops_nn.c — kernel family 'nn' (being written).
*/
#include "ld_op.h"

const ld_op_def ld_ops_nn[] = {
    {0},
};
