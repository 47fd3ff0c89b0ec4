/*
** ops_pool.c — kernel family 'pool' (being written).
*/
#include "ld_op.h"

const ld_op_def ld_ops_pool[] = {
    {0},
};
