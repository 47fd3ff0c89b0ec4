/*
** ops_reduce.c — kernel family 'reduce' (being written).
*/
#include "ld_op.h"

const ld_op_def ld_ops_reduce[] = {
    {0},
};
