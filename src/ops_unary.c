/*
** ops_unary.c — kernel family 'unary' (being written).
*/
#include "ld_op.h"

const ld_op_def ld_ops_unary[] = {
    {0},
};
