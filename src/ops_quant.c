/*
** ops_quant.c — kernel family 'quant' (being written).
*/
#include "ld_op.h"

const ld_op_def ld_ops_quant[] = {
    {0},
};
