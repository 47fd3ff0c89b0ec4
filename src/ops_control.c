/*
** ops_control.c — kernel family 'control' (being written).
*/
#include "ld_op.h"

const ld_op_def ld_ops_control[] = {
    {0},
};
