/*
** ops_attn.c — kernel family 'attn' (being written).
*/
#include "ld_op.h"

const ld_op_def ld_ops_attn[] = {
    {0},
};
