/*
** ops_shape.c — kernel family 'shape' (being written).
*/
#include "ld_op.h"

const ld_op_def ld_ops_shape[] = {
    {0},
};
