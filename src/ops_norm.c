/*
** ops_norm.c — kernel family 'norm' (being written).
*/
#include "ld_op.h"

const ld_op_def ld_ops_norm[] = {
    {0},
};
