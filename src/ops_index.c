/*
** ops_index.c — kernel family 'index' (being written).
*/
#include "ld_op.h"

const ld_op_def ld_ops_index[] = {
    {0},
};
