/*
** ops_loss.c — kernel family 'loss' (being written).
*/
#include "ld_op.h"

const ld_op_def ld_ops_loss[] = {
    {0},
};
